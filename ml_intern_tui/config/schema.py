"""The settings of ml-intern-tui as pydantic models: one class per TOML table.

``configs/default.toml`` carries the same keys with the shipped values and a comment on
each. Unknown keys are errors everywhere except inside ``[keymap]`` and the ``env`` /
``headers`` tables of an MCP server. TOML has no null: an optional setting is "off" when
its key is absent, and a later layer can switch it off again with ``"none"``.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from ml_intern_tui.config.space_schema import SpaceSandboxConfig
from ml_intern_tui.core.tool import RememberRule

ApprovalMode = Literal["ask", "auto", "yolo"]
ReasoningEffort = Literal["minimal", "low", "medium", "high", "xhigh", "max"]
McpTransport = Literal["stdio", "http", "streamable-http", "sse"]

OFF_WORDS = frozenset({"", "none", "off", "null"})
"""Strings that mean "no value" for optional settings (TOML cannot say null)."""

_SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _off_to_none(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in OFF_WORDS:
        return None
    return value


def _strip_slash(value: Any) -> Any:
    return value.rstrip("/") if isinstance(value, str) else value


Url = Annotated[str, BeforeValidator(_strip_slash)]
"""A base URL; a trailing slash is dropped so paths can be appended."""


class Section(BaseModel):
    """Base of every config table: unknown keys are errors, field docstrings are docs."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class ContextConfig(Section):
    """``[context]``: how much history the model sees and when it is compacted."""

    limit: Annotated[Annotated[int, Field(ge=1000)] | None, BeforeValidator(_off_to_none)] = None
    """Context window in tokens; absent = what the model reports (200k for local models)."""
    compact_threshold: Annotated[float, Field(ge=0.5, le=0.98)] = 0.9
    """Compact when usage passes this fraction of the window."""
    keep_recent: Annotated[int, Field(ge=1)] = 5
    """Most recent messages kept verbatim by compaction."""
    per_message_cap_tokens: Annotated[int, Field(ge=1000)] = 50_000
    """A single message larger than this becomes a placeholder during compaction."""


class LlmConfig(Section):
    """``[llm]``: calls to the model."""

    timeout_s: Annotated[float, Field(gt=0)] = 600
    """Seconds one model call may take before it is retried."""
    max_retries: Annotated[int, Field(ge=0)] = 3
    """Retries for rate limits, server errors, timeouts and broken streams."""
    retry_base_delay_s: Annotated[float, Field(ge=0)] = 2.0
    """First retry delay; it doubles on each retry."""
    retry_max_delay_s: Annotated[float, Field(ge=0)] = 30.0
    """Longest delay between two retries."""
    hf_router_base: Url = "https://router.huggingface.co/v1"
    """OpenAI-compatible base URL of the Hugging Face inference router."""
    prompt_caching: bool = True
    """Ask providers to cache the prompt prefix (session header, cache markers, cache key)."""

    @model_validator(mode="after")
    def _delays_ordered(self) -> LlmConfig:
        if self.retry_max_delay_s < self.retry_base_delay_s:
            raise ValueError(
                f"retry_max_delay_s ({self.retry_max_delay_s}) must be at least "
                f"retry_base_delay_s ({self.retry_base_delay_s})"
            )
        return self


class BashToolConfig(Section):
    """``[tools.bash]``: the shell commands the agent runs."""

    pass_env: list[str] = []
    """Environment variables passed to commands although they look secret (names or globs
    like ``WANDB_*``); every other secret is withheld from commands and MCP servers."""

    @field_validator("pass_env")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        from ml_intern_tui.safety.environment import pass_env_problem

        for name in value:
            problem = pass_env_problem(name)
            if problem:
                raise ValueError(problem)
        return value


class ToolsConfig(Section):
    """``[tools]``: limits the built-in tools work within."""

    output_budget_chars: Annotated[int, Field(ge=1000)] = 30_000
    """Characters of one tool output the model sees; the rest is cut (and the cut said)."""
    bash_timeout_s: Annotated[int, Field(ge=1)] = 120
    """Default timeout of a foreground shell command."""
    bash_max_timeout_s: Annotated[int, Field(ge=1)] = 3600
    """Largest timeout the model may ask for."""
    readonly_allowlist: list[str] = []
    """Command prefixes that run without approval in ``ask`` mode; empty = built-in list."""
    bash: BashToolConfig = BashToolConfig()

    @field_validator("readonly_allowlist")
    @classmethod
    def _allowlist_entries(cls, entries: list[str]) -> list[str]:
        # An empty entry once matched every command; shell syntax never matches a word.
        for number, entry in enumerate(entries, 1):
            if not entry.strip():
                raise ValueError(
                    f"entry {number} is empty; write a command and its leading words "
                    '(like "make test") or remove it'
                )
            if re.search(r"[;&|<>$`()\n\r]", entry):
                raise ValueError(
                    f"entry {number} ({entry.strip()!r}) is not one command; write a command "
                    'and its leading words (like "make test"), without ; & | < > $ ` ( )'
                )
        return entries

    @model_validator(mode="after")
    def _timeouts_ordered(self) -> ToolsConfig:
        if self.bash_timeout_s > self.bash_max_timeout_s:
            raise ValueError(
                f"bash_timeout_s ({self.bash_timeout_s}) must not exceed "
                f"bash_max_timeout_s ({self.bash_max_timeout_s})"
            )
        return self


SandboxMode = Literal["auto", "off"]
SandboxNetwork = Literal["ask", "allow", "deny"]
DownloadCache = Literal["huggingface", "pip", "uv", "torch"]


class SandboxConfig(Section):
    """``[sandbox]``: the OS sandbox shell commands run in (bubblewrap on Linux)."""

    mode: SandboxMode = "auto"
    """``auto``: sandbox every shell command when bubblewrap works (else auto mode asks);
    ``off``: run commands unconfined."""
    network: SandboxNetwork = "ask"
    """Network of sandboxed commands: ``ask`` (a command that needs it asks in auto mode),
    ``allow`` (always on) or ``deny`` (never; such commands are refused)."""
    writable_paths: list[Path] = []
    """Extra paths sandboxed commands may write (``~`` expanded); the project and a
    private ``/tmp`` always are."""
    download_caches: list[DownloadCache] = ["huggingface"]
    """Your own caches a command granted the network may fill (without the network they
    stay read-only). Caches not listed are replaced, inside the sandbox, by its own copy
    (``~/.cache/ml-intern-tui/sandbox``): pip, uv and torch caches hold code that would
    run later outside the sandbox."""
    space: SpaceSandboxConfig = SpaceSandboxConfig()
    """The remote sandbox on a Hugging Face Space (a different thing: a machine you rent)."""

    @field_validator("writable_paths", mode="before")
    @classmethod
    def _expand_paths(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        paths = []
        for item in value:
            if not isinstance(item, str):
                paths.append(item)
                continue
            path = Path(item.strip()).expanduser()
            if not item.strip() or not path.is_absolute():
                raise ValueError(f"writable path {item!r} must be absolute or start with ~")
            if path == Path("/"):
                raise ValueError(
                    'writable path "/" would make everything writable; use mode = "off" instead'
                )
            paths.append(path)
        return paths


class RememberedRule(RememberRule):
    """A remembered approval as written in ``[[approvals.remembered]]`` (no unknown keys)."""

    model_config = ConfigDict(extra="forbid")


class ApprovalsConfig(Section):
    """``[approvals]``: decisions stored by answering "remember"."""

    remembered: list[RememberedRule] = []
    """Rules approved without asking; lists from every config layer add up."""


class SessionsConfig(Section):
    """``[sessions]``: the per-session journal."""

    journal: bool = True
    """Write an append-only JSONL journal of every session (needed for resume)."""
    dir: Path | None = None
    """Where journals go; absent = ``$XDG_DATA_HOME/ml-intern-tui/sessions``."""

    @field_validator("dir", mode="before")
    @classmethod
    def _expand_dir(cls, value: Any) -> Any:
        value = _off_to_none(value)
        return Path(value).expanduser() if isinstance(value, str) else value


class TracesConfig(Section):
    """``[traces]``: session traces uploaded to your own Hugging Face dataset."""

    upload: bool = True
    """Upload each session's trace in the background after every turn (needs an HF token)."""
    repo: str = "{user}/ml-intern-sessions"
    """Dataset the traces go to; ``{user}`` is your Hugging Face user name."""
    private: bool = True
    """Create the dataset private (only when it does not exist yet; see ``/share-traces``)."""

    @field_validator("repo")
    @classmethod
    def _repo_template(cls, value: str) -> str:
        value = value.strip()
        try:
            repo = value.format(user="user", hf_user="user")
        except (KeyError, IndexError, ValueError):
            repo = ""
        parts = repo.split("/")
        if len(parts) != 2 or not all(parts) or any(c.isspace() for c in repo):
            raise ValueError(
                f"repo {value!r} must name a dataset like "
                '"{user}/ml-intern-sessions" or "my-org/traces"'
            )
        return value


class UiConfig(Section):
    """``[ui]``: the look of the terminal app."""

    theme: str = "ml-intern-dark"
    """A bundled theme, a theme file in the config directory, or a Textual built-in."""
    show_reasoning: bool = True
    """Show the model's reasoning stream (dimmed) above its answer."""
    max_chat_blocks: Annotated[int, Field(ge=10)] = 200
    """Chat blocks kept on screen; older ones are dropped from view (not from history)."""
    notify: Literal["auto", "bell", "osc9", "off"] = "auto"
    """How a job alert reaches you when the terminal is not focused: the bell, an OSC 9
    desktop notification, ``auto`` (OSC 9 where the terminal shows it, else the bell), or
    ``off``."""


class HubConfig(Section):
    """``[hub]``: Hugging Face Hub endpoints."""

    endpoint: Url = "https://huggingface.co"
    """Hub base URL."""
    datasets_server: Url = "https://datasets-server.huggingface.co"
    """Dataset viewer API used to inspect datasets."""


class GithubConfig(Section):
    """``[github]``: the GitHub API used by the code-search tools."""

    api_base: Url = "https://api.github.com"
    """GitHub REST API base URL (GitHub Enterprise: ``https://HOST/api/v3``)."""


def _http_url(value: str) -> str:
    value = value.strip()
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def _networks(values: list[str]) -> list[str]:
    import ipaddress

    for value in values:
        try:
            ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an IP address or network (e.g. '10.0.0.0/8')"
            ) from None
    return [value.strip() for value in values]


class WebConfig(Section):
    """``[web]``: ``web_search`` and ``web_fetch``."""

    search_url: Annotated[str, AfterValidator(_http_url)] = "https://html.duckduckgo.com/html/"
    """HTML search page queried by ``web_search`` (``?q=`` is added; or put ``{query}`` in it)."""
    user_agent: str = "Mozilla/5.0 (compatible; ml-intern-tui/0.1)"
    """User-Agent header of web requests."""
    timeout_s: Annotated[float, Field(gt=0, le=600)] = 20.0
    """Seconds one search or one page fetch may take in all (redirects and body included)."""
    max_page_bytes: Annotated[int, Field(ge=10_000, le=100_000_000)] = 5_000_000
    """Bytes of one page ``web_fetch`` reads; a larger page is read up to this and said so."""
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    """Redirects ``web_fetch`` follows before it gives up."""
    allow_private_networks: Annotated[list[str], AfterValidator(_networks)] = []
    """Addresses or networks ``web_fetch`` may reach besides the public internet (by default
    loopback, private, link-local and other non-public addresses are refused)."""


class McpServerConfig(Section):
    """``[mcp.servers.NAME]``: one MCP server, local (``command``) or remote (``url``)."""

    command: str | None = None
    """Program to start (stdio transport)."""
    args: list[str] = []
    """Arguments for ``command``."""
    env: dict[str, str] = {}
    """Extra environment variables for ``command``."""
    cwd: str | None = None
    """Working directory for ``command``; absent = the project directory."""
    url: str | None = None
    """Address of a remote server."""
    transport: McpTransport | None = None
    """``stdio`` for ``command``; ``http`` (default for ``url``), ``streamable-http`` or ``sse``."""
    headers: dict[str, str] = {}
    """HTTP headers sent to ``url``."""
    enabled: bool = True
    """Connect to this server at start-up."""
    trusted: bool = False
    """Run this server's tools without asking for approval."""
    send_hf_token: bool = False
    """Send your Hugging Face token: as ``Authorization: Bearer`` to a ``url`` on
    huggingface.co (or a subdomain, or the ``[hub]`` endpoint), never to other hosts;
    as ``HF_TOKEN`` in the environment of a ``command``. Off: the token is never sent."""
    timeout_s: Annotated[float, Field(gt=0)] = 120.0
    """Seconds one tool call may take before it fails."""
    connect_timeout_s: Annotated[float, Field(gt=0)] = 30.0
    """Seconds one connection attempt (start, handshake, tool list) may take."""

    @model_validator(mode="after")
    def _one_kind(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("set either command (a local server) or url (a remote one)")
        if self.command is not None and self.transport not in (None, "stdio"):
            raise ValueError(f"transport {self.transport!r} needs url, not command")
        if self.url is not None and self.transport == "stdio":
            raise ValueError("transport 'stdio' needs command, not url")
        return self

    @property
    def effective_transport(self) -> McpTransport:
        """The transport to use, filling in the default for the server kind."""
        if self.transport is not None:
            return self.transport
        return "stdio" if self.command is not None else "http"


class McpConfig(Section):
    """``[mcp]``: Model Context Protocol servers whose tools join the built-in ones."""

    servers: dict[str, McpServerConfig] = {}
    """Servers by name; their tools are named ``<server>__<tool>``."""

    @field_validator("servers")
    @classmethod
    def _names(cls, value: dict[str, McpServerConfig]) -> dict[str, McpServerConfig]:
        for name in value:
            if not _SERVER_NAME.match(name) or "__" in name:
                raise ValueError(
                    f"server name {name!r}: use letters, digits, '-' and single '_' only"
                )
        return value


NotificationEvent = Literal[
    "approval_required", "error", "turn_complete", "job_finished", "job_alert"
]
NOTIFICATION_EVENTS: tuple[NotificationEvent, ...] = get_args(NotificationEvent)
_DESTINATION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class SlackDestinationConfig(Section):
    """``[notifications.destinations.NAME]``: one Slack channel, by webhook or bot token.

    Secrets are ``SecretStr`` so printing the settings never shows them; messages about
    a bad value never repeat it either.
    """

    type: Literal["slack"]
    """The kind of destination; ``slack`` is the only one so far."""
    webhook_url: SecretStr | None = None
    """A Slack incoming-webhook URL (the channel is fixed by the webhook)."""
    token: SecretStr | None = None
    """A Slack bot token (``xoxb-…``) for ``chat.postMessage``; needs ``channel``."""
    channel: str | None = None
    """Channel name (``#ml``) or id (``C0123…``) the bot posts to (bot token only)."""
    api_base: Url = "https://slack.com/api"
    """Slack Web API base URL (bot token only)."""
    events: list[NotificationEvent] = list(NOTIFICATION_EVENTS)
    """Events sent here automatically; an empty list sends only what the agent posts."""
    allow_agent: bool = False
    """Let the agent post here with the ``notify`` tool (no approval asked)."""
    enabled: bool = True
    """Use this destination."""
    username: str | None = None
    """Display name of the bot's messages (bot token only; the app may not allow it)."""
    icon_emoji: str | None = None
    """Emoji used as the bot's avatar, like ``:robot_face:`` (bot token only)."""

    @field_validator("webhook_url", "token", "channel", "username", "icon_emoji", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return _off_to_none(value)

    @field_validator("events")
    @classmethod
    def _dedupe(cls, value: list[NotificationEvent]) -> list[NotificationEvent]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _one_way_in(self) -> SlackDestinationConfig:
        if (self.webhook_url is None) == (self.token is None):
            raise ValueError("set either webhook_url, or token and channel")
        if self.webhook_url is not None:
            url = self.webhook_url.get_secret_value()
            if not url.startswith(("https://", "http://")):
                raise ValueError("webhook_url must be an https:// URL (the value is not shown)")
            if self.channel is not None:
                raise ValueError("channel is fixed by the webhook; remove channel or use a token")
        if self.token is not None:
            if not self.token.get_secret_value().startswith("xox"):
                raise ValueError("token must be a Slack token like xoxb-… (the value is not shown)")
            if self.channel is None:
                raise ValueError("token needs channel (the channel name or id to post to)")
        return self


class NotificationsConfig(Section):
    """``[notifications]``: Slack messages when the agent needs you, fails or finishes."""

    enabled: bool = False
    """Send notifications at all (the ``SLACK_BOT_TOKEN`` shortcut switches this on)."""
    destinations: dict[str, SlackDestinationConfig] = {}
    """Named destinations; the ``notify`` tool addresses them by name."""
    preview_chars: Annotated[int, Field(ge=100, le=30_000)] = 1500
    """Characters of the final answer a ``turn_complete`` notification shows."""

    @field_validator("destinations", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        for name in value if isinstance(value, dict) else ():
            if not _DESTINATION_NAME.match(str(name)):
                raise ValueError(
                    f"destination name {name!r}: use letters, digits, '.', '-' and '_' only"
                )
        return value


class JobsConfig(Section):
    """``[jobs]``: what is read from background jobs' logs, and when a job needs attention."""

    metrics: bool = True
    """Read training metrics and progress bars from job logs (``job_metrics`` events)."""
    stall_after_s: Annotated[
        Annotated[float, Field(ge=1)] | None, BeforeValidator(_off_to_none)
    ] = 600.0
    """A running job with no new log line for this many seconds is reported as stalled; absent = never."""
    diverge_factor: Annotated[float, Field(gt=1)] = 3.0
    """A loss that rises above this many times its lowest recent value is reported as diverging."""
    diverge_window: Annotated[int, Field(ge=3, le=64)] = 20
    """How many recent points of a loss the divergence check looks back over."""


class AppConfig(Section):
    """All settings, after merging the config layers."""

    model: str = "moonshotai/Kimi-K2.6"
    """Model id: ``org/name`` (HF router, optional ``:provider`` suffix) or a local prefix."""
    mode: ApprovalMode = "ask"
    """Approval mode: ``ask``, ``auto`` (approve local work) or ``yolo`` (approve all within budget)."""
    budget_usd: Annotated[Annotated[float, Field(gt=0)] | None, BeforeValidator(_off_to_none)] = (
        None
    )
    """Spending cap in US dollars for paid jobs and model calls; absent = no cap."""
    max_iterations: Annotated[int, Field(ge=1)] = 300
    """Model calls in one turn before it stops with a notice."""
    stream: bool = True
    """Stream the model's answer token by token."""
    reasoning_effort: Annotated[ReasoningEffort | None, BeforeValidator(_off_to_none)] = None
    """The most reasoning effort asked of the model (each model gets the highest level it
    takes, probed and cached); absent = none sent (the model's own default)."""
    suggested_models: list[str] = []
    """Model ids offered by the ``/model`` picker."""
    context: ContextConfig = ContextConfig()
    llm: LlmConfig = LlmConfig()
    tools: ToolsConfig = ToolsConfig()
    approvals: ApprovalsConfig = ApprovalsConfig()
    sessions: SessionsConfig = SessionsConfig()
    traces: TracesConfig = TracesConfig()
    ui: UiConfig = UiConfig()
    keymap: dict[str, str] = {}
    """Key binding overrides: binding id = keys (comma-separated for several)."""
    hub: HubConfig = HubConfig()
    github: GithubConfig = GithubConfig()
    web: WebConfig = WebConfig()
    mcp: McpConfig = McpConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    sandbox: SandboxConfig = SandboxConfig()
    jobs: JobsConfig = JobsConfig()

    @field_validator("model")
    @classmethod
    def _model_id(cls, value: str) -> str:
        value = value.strip()
        if not value or any(ch.isspace() for ch in value):
            raise ValueError(f"model id {value!r} must be non-empty without spaces")
        return value


# ----------------------------------------------------------------------------- introspection


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation allows (``Annotated`` and ``None`` removed)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return [t for arg in get_args(annotation) for t in _unwrap(arg) if t is not type(None)]
    return [annotation]


def _annotation_at(path: tuple[str | int, ...]) -> Any:
    """The annotation of the setting at ``path``, or ``None`` when no such setting exists."""
    annotation: Any = AppConfig
    for key in path:
        for candidate in _unwrap(annotation):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                field = candidate.model_fields.get(str(key))
                annotation = field.annotation if field is not None else None
                break
            if get_origin(candidate) is dict:
                annotation = get_args(candidate)[1]
                break
            if get_origin(candidate) is list and isinstance(key, int):
                annotation = get_args(candidate)[0]
                break
        else:
            return None
        if annotation is None:
            return None
    return annotation


def expects_text(path: tuple[str | int, ...]) -> bool:
    """True when the setting at ``path`` takes a string (a path, a name, one of some words)."""
    annotation = _annotation_at(path)
    if annotation is None:
        return False
    kinds = _unwrap(annotation)
    for kind in kinds:
        if get_origin(kind) is Literal:
            if not all(isinstance(v, str) for v in get_args(kind)):
                return False
        elif kind not in (str, Path):
            return False
    return bool(kinds)


def known_keys(path: tuple[str | int, ...]) -> list[str] | None:
    """The setting names of the table at ``path`` (``None`` when it takes any keys)."""
    annotation = _annotation_at(path)
    for kind in _unwrap(annotation) if annotation is not None else []:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return list(kind.model_fields)
    return None
