"""Safety layers around what the agent runs and writes (see the README's "Safety model").

Each layer holds on its own, so a hostile model or repository has to break all of them:

- ``protected``: paths a write always asks for (``.git/``, ``.ml-intern/``, shell start-up
  files, ``~/.ssh``, this app's own config and data), and the ones the OS sandbox keeps
  read-only inside the project.
- shell analysis: a command runs unasked only when a real bash grammar shows plain
  commands whose programs and options only read.
- the OS sandbox: commands run under bubblewrap with the file system read-only except the
  project and a private tmp, and no network unless allowed.
- project trust: a project's ``.ml-intern/config.toml`` cannot loosen any of this until the
  user trusts that project.
- hygiene: tools get an environment without secrets; text from models, tools and servers
  is made terminal-safe before it is drawn (``terminal``); the values of the secrets this
  process holds are found at start (``secret_values``) and scrubbed from tool outputs,
  requests, events and everything written (``core/known_secrets.py``).
"""
