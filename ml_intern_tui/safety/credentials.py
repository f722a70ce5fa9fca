"""Where credentials live under a home directory: hidden inside the sandbox, and never
read by a command that runs without approval.

One list for both, so that what the sandbox hides and what the shell analysis refuses to
call read-only cannot drift apart. Shell and REPL histories are here too: they hold the
tokens people paste (``export OPENAI_API_KEY=…``, ``hf auth login --token …``), often
old ones the app does not know to scrub.
"""

from __future__ import annotations

CREDENTIAL_STORES: tuple[str, ...] = (
    ".ssh",
    ".netrc",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".git-credentials",
    ".config/git/credentials",
    ".config/gh",
    ".config/hub",
    ".docker/config.json",
    ".kube",
    ".pypirc",
    ".npmrc",
    ".gnupg",
    ".password-store",
    ".local/share/keyrings",
    ".kaggle",
    ".huggingface",
    ".cache/huggingface/token",
    ".cache/huggingface/stored_tokens",
    ".vault-token",
    ".terraform.d/credentials.tfrc.json",
    ".config/rclone",
    ".s3cfg",
    ".boto",
    ".databrickscfg",
    ".pgpass",
    ".my.cnf",
    ".codex/auth.json",
    ".claude/.credentials.json",
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
    ".config/pypoetry/auth.toml",
    ".cargo/credentials.toml",
    ".cargo/credentials",
    ".m2/settings.xml",
    ".gradle/gradle.properties",
    ".oci",
    ".config/doctl",
    ".modal.toml",
    ".comet.config",
    ".mlflow/credentials",
    ".config/vastai",
    ".runpod",
    ".ollama/id_ed25519",
)
"""Credential stores (browser profiles hold session cookies)."""

HISTORY_FILES: tuple[str, ...] = (
    ".bash_history",
    ".zsh_history",
    ".zhistory",
    ".sh_history",
    ".history",
    ".local/share/fish/fish_history",
    ".python_history",
    ".ipython/profile_default/history.sqlite",
    ".node_repl_history",
    ".psql_history",
    ".mysql_history",
    ".sqlite_history",
    ".rediscli_history",
    ".lesshst",
)
"""Shell and REPL histories: tokens typed on a command line stay there."""

SECRET_IN_HOME: tuple[str, ...] = CREDENTIAL_STORES + HISTORY_FILES
"""Every path under the home directory whose contents must not reach a model."""
