"""A bash script parsed with the tree-sitter bash grammar into the commands it runs.

``parse_script`` finds every simple command of a script, wherever it sits (in a chain,
a pipeline, a substitution, a function body, a loop), with its words resolved as bash
resolves them (``shell_words``), its redirections, and whether its standard input comes
from an earlier pipeline stage. It also says which constructs the script uses beyond
plain commands joined by ``;``, ``&&``, ``||``, ``|`` and newlines (``problems``), and
which of those hide what runs (``opaque``: substitutions, subshells, functions, here-docs,
…). Where bash and the grammar could disagree (a line continuation inside a word, a
comment the grammar sees where bash sees a word, control characters) the script is
marked ``error``: the analysis must not trust it.

The grammar is loaded on first use: importing this module is cheap.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ml_intern_tui.safety.shell_words import Word, build_word, expansion_problem, node_text

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

WRITE_OPS = frozenset({">", ">>", "&>", "&>>", ">|"})
"""Redirection operators that open a file for writing."""

_SEQUENCE = frozenset({"program", "list"})
_SEPARATORS = frozenset({";", "&&", "||", "\n"})
_PIPES = frozenset({"|", "|&"})
_FLAGGED: dict[str, str] = {
    "subshell": "runs a subshell ( … )",
    "compound_statement": "runs a command group or arithmetic",
    "function_definition": "defines a function",
    "if_statement": "uses control flow (if)",
    "while_statement": "uses a loop (while/until)",
    "for_statement": "uses a loop (for)",
    "c_style_for_statement": "uses a loop (for)",
    "case_statement": "uses control flow (case)",
    "negated_command": "negates a command (!)",
    "test_command": "uses a test expression [[ … ]]",
    "variable_assignment": "sets a shell variable",
    "variable_assignments": "sets shell variables",
    "declaration_command": "declares or exports variables",
    "unset_command": "unsets variables",
    "command_substitution": "uses command substitution",
    "process_substitution": "uses process substitution",
    "arithmetic_expansion": "uses arithmetic expansion",
}
_QUIET = frozenset(
    {"word", "number", "string", "raw_string", "ansi_c_string", "concatenation", "string_content"}
)
_PROTECTED_TEXT = frozenset(
    {"raw_string", "ansi_c_string", "string", "heredoc_body", "comment", "heredoc_content"}
)
_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
_COMMENT_BOUNDARY = frozenset(b" \t\n;&|()<>")
_LONE_DASH = re.compile(rb"-[ \t]*<<")
_QUOTED_DELIMITER = re.compile(r"^(?:'.*'|\".*\"|.*\\.*)$", re.S)
MAX_NESTING = 200
"""Deeper scripts are not analysed (the recursion would be a denial of service)."""


@dataclass(frozen=True)
class Redirect:
    """One redirection of a command."""

    op: str
    """The operator as written: ``>``, ``>>``, ``<``, ``&>``, ``>&``, ``<&``, ``<<``, ``<<<``…"""
    fd: str | None = None
    """The descriptor written before the operator (``2`` in ``2>``)."""
    target: Word | None = None
    """The file (or descriptor, for ``>&``/``<&``) it points at; ``None`` for ``>&-``."""
    heredoc: str | None = None
    """A here-document's body when it holds no expansion (``None`` otherwise)."""

    @property
    def is_heredoc(self) -> bool:
        return self.op in ("<<", "<<-", "<<<")

    @property
    def writes_file(self) -> bool:
        """Opens a file for writing (``>&word`` too, when ``word`` is not a descriptor)."""
        if self.op in WRITE_OPS:
            return True
        if self.op == ">&" and self.target is not None:
            value = self.target.value or ""
            return not (value.rstrip("-").isdigit() or value == "-")
        return False

    @property
    def text(self) -> str:
        target = self.target.canonical if self.target is not None else ""
        if self.op in (">&", "<&") and (target.rstrip("-").isdigit() or target == "-"):
            return f"{self.fd or ''}{self.op}{target}"
        if self.is_heredoc and self.op != "<<<":
            return f"{self.fd or ''}{self.op}…"
        return f"{self.fd or ''}{self.op} {target}".rstrip()


@dataclass(frozen=True)
class SimpleCommand:
    """A program with its arguments, as bash will run it."""

    words: tuple[Word, ...]
    assignments: tuple[tuple[str, Word], ...] = ()
    redirects: tuple[Redirect, ...] = ()
    piped: bool = False
    """Standard input comes from an earlier command (a pipeline stage after ``|``)."""
    nested: bool = False
    """Inside a substitution, subshell, group, function body or control flow."""
    background: bool = False

    @property
    def text(self) -> str:
        """Canonical text: what remembered rules are matched against."""
        parts = [f"{name}={value.canonical}" for name, value in self.assignments]
        parts += [word.canonical for word in self.words]
        parts += [redirect.text for redirect in self.redirects]
        return " ".join(parts)

    @property
    def stdin_heredoc(self) -> Redirect | None:
        for redirect in self.redirects:
            if redirect.is_heredoc and redirect.fd in (None, "0"):
                return redirect
        return None


@dataclass(frozen=True)
class ParsedScript:
    """Every command of a script and the constructs around them."""

    source: str
    commands: tuple[SimpleCommand, ...] = ()
    problems: tuple[str, ...] = ()
    """Constructs beyond plain commands joined by ``;`` ``&&`` ``||`` ``|`` and newlines."""
    opaque: tuple[str, ...] = ()
    """Those of ``problems`` that hide what runs or with what (no rule may match then)."""
    error: str | None = None
    """Why the grammar's reading cannot be trusted (parse error, differential with bash)."""

    @property
    def plain(self) -> bool:
        return self.error is None and not self.problems

    @property
    def understood(self) -> bool:
        return self.error is None and not self.opaque


@functools.cache
def _parser() -> Parser:
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


_PARSE_LOCK = threading.Lock()


@functools.lru_cache(maxsize=512)
def parse_script(source: str) -> ParsedScript:
    """Parse ``source`` (cached: the analysis asks about one command several times)."""
    data = source.encode("utf-8", "surrogateescape")
    if _CONTROL.search(data):
        return ParsedScript(source, error="contains control characters")
    for _ in range(8):
        walker, skipped = _walk(data)
        if skipped is None or not _LONE_DASH.match(data, skipped):
            break
        # The grammar drops a lone '-' right before '<<' ('python3 - <<EOF'); the text
        # it skipped is in code position, so quoting it changes nothing for bash.
        data = data[:skipped] + b"'-'" + data[skipped + 1 :]
    if skipped is not None:
        walker.error = walker.error or "holds text the grammar skips (an escaped blank?)"
    return ParsedScript(
        source,
        commands=tuple(walker.commands),
        problems=tuple(dict.fromkeys(walker.problems)),
        opaque=tuple(dict.fromkeys(walker.opaque)),
        error=walker.error,
    )


def _walk(data: bytes) -> tuple[_Walker, int | None]:
    with _PARSE_LOCK:
        tree = _parser().parse(data)
    walker = _Walker(data)
    skipped: int | None = None
    try:
        walker.visit(tree.root_node, nested=False, piped=False, depth=0)
        walker.check_continuations(tree.root_node)
        skipped = walker.skipped_text(tree.root_node)
    except RecursionError:
        walker.error = "is nested too deeply to analyse"
    if tree.root_node.has_error and walker.error is None:
        walker.error = "does not parse as bash"
    return walker, skipped


@dataclass
class _Walker:
    src: bytes
    commands: list[SimpleCommand] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    error: str | None = None

    def flag(self, reason: str, *, opaque: bool = True) -> None:
        self.problems.append(reason)
        if opaque:
            self.opaque.append(reason)

    # ------------------------------------------------------------ statements

    def visit(self, node: Node, *, nested: bool, piped: bool, depth: int) -> None:
        if depth > MAX_NESTING:
            raise RecursionError
        kind = node.type
        if node.is_error or node.is_missing:
            self.error = self.error or "does not parse as bash"
        if kind in _SEQUENCE:
            self._sequence(node, nested, piped, depth)
        elif kind == "pipeline":
            self._pipeline(node, nested, piped, depth)
        elif kind == "redirected_statement":
            self._redirected(node, nested, piped, depth)
        elif kind == "command":
            self._command(node, [], nested, piped, depth)
        elif kind == "comment":
            self._comment(node)
        elif kind in ("simple_expansion", "expansion"):
            self.flag(expansion_problem(node, self.src))
            self._descend(node, nested=True, piped=piped, depth=depth)
        elif kind in _FLAGGED:
            self.flag(_FLAGGED[kind])
            self._descend(node, nested=True, piped=piped, depth=depth)
        elif kind in _QUIET or not node.is_named:
            self._descend(node, nested=nested, piped=piped, depth=depth)
        else:
            self.flag(f"uses {kind.replace('_', ' ')}")
            self._descend(node, nested=True, piped=piped, depth=depth)

    def _descend(self, node: Node, *, nested: bool, piped: bool, depth: int) -> None:
        for child in node.children:
            if child.is_named or child.is_error or child.is_missing:
                self.visit(child, nested=nested, piped=piped, depth=depth + 1)

    def _sequence(self, node: Node, nested: bool, piped: bool, depth: int) -> None:
        start = len(self.commands)
        for child in node.children:
            if child.is_named:
                start = len(self.commands)
                self.visit(child, nested=nested, piped=piped, depth=depth + 1)
            elif child.type == "&":
                self.flag("runs a command in the background (&)", opaque=False)
                for i in range(start, len(self.commands)):
                    self.commands[i] = replace(self.commands[i], background=True)
            elif child.type not in _SEPARATORS and child.type.strip():
                self.flag(f"uses {child.type!r}")
                if child.is_error or child.is_missing:
                    self.error = self.error or "does not parse as bash"

    def _pipeline(self, node: Node, nested: bool, piped: bool, depth: int) -> None:
        stage = 0
        for child in node.children:
            if child.is_named:
                self.visit(child, nested=nested, piped=piped or stage > 0, depth=depth + 1)
            elif child.type in _PIPES:
                stage += 1
            elif child.type.strip():
                self.flag(f"uses {child.type!r}")

    def _redirected(self, node: Node, nested: bool, piped: bool, depth: int) -> None:
        body = node.named_children[0] if node.named_children else None
        redirects = [c for c in node.children if c is not body]
        if body is not None and body.type == "command":
            self._command(body, redirects, nested, piped, depth)
            return
        start = len(self.commands)
        if body is not None:
            self.visit(body, nested=nested, piped=piped, depth=depth + 1)
        built, extra = self._redirects(redirects, nested, piped, depth)
        if extra:
            self.flag("passes arguments after a redirection of a compound command")
        for i in range(start, len(self.commands)):
            command = self.commands[i]
            self.commands[i] = replace(command, redirects=command.redirects + tuple(built))

    def _comment(self, node: Node) -> None:
        start = node.start_byte
        text = node_text(node, self.src)
        if "\n" in text or (start > 0 and self.src[start - 1] not in _COMMENT_BOUNDARY):
            self.error = self.error or "has a comment bash would read differently"

    # -------------------------------------------------------------- commands

    def _command(
        self, node: Node, redirect_nodes: list[Node], nested: bool, piped: bool, depth: int
    ) -> None:
        words: list[Word] = []
        assignments: list[tuple[str, Word]] = []
        inline_redirects: list[Node] = []
        groups: list[list[Node]] = []
        assignment_nodes: list[list[Node]] = []
        last: list[Node] | None = None
        for child in node.children:
            if child.type == "variable_assignment":
                last = [child]
                assignment_nodes.append(last)
            elif child.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                inline_redirects.append(child)
                last = None
            elif child.is_named:
                part = child.named_children[0] if child.type == "command_name" else child
                if last is not None and last[-1].end_byte == child.start_byte:
                    last.append(part)  # no blank in between: bash reads one word
                else:
                    last = [part]
                    groups.append(last)
            else:
                self.flag(f"uses shell syntax the analysis does not know ({child.type!r})")
                last = None
        for group in assignment_nodes:
            assignments.append(self._assignment(group, nested, depth))
        words = [self._word(group, nested, depth) for group in groups]
        if assignments:
            names = " ".join(f"{name}=…" for name, _ in assignments)
            self.flag(f"sets environment variables ({names})", opaque=False)
        built, extra = self._redirects(inline_redirects + redirect_nodes, nested, piped, depth)
        self.commands.append(
            SimpleCommand(
                words=tuple(words + extra),
                assignments=tuple(assignments),
                redirects=tuple(built),
                piped=piped,
                nested=nested,
            )
        )

    def _assignment(self, group: list[Node], nested: bool, depth: int) -> tuple[str, Word]:
        node = group[0]
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        name = node_text(name_node, self.src) if name_node is not None else "?"
        if value_node is None:
            if len(group) > 1:
                return name, self._word(group[1:], nested, depth)
            return name, Word(value="", raw="")
        if value_node.type == "array":
            self.flag("assigns an array")
            self._descend(value_node, nested=True, piped=False, depth=depth + 1)
            return name, Word(value=None, raw=node_text(value_node, self.src), problem="array")
        return name, self._word([value_node, *group[1:]], nested, depth)

    def _word(self, nodes: list[Node], nested: bool, depth: int) -> Word:
        word, inner = build_word(nodes, self.src)
        if word.problem is not None:
            self.flag(word.problem)
        for child in inner:
            self.visit(child, nested=True, piped=False, depth=depth + 1)
        return word

    def _redirects(
        self, nodes: list[Node], nested: bool, piped: bool, depth: int
    ) -> tuple[list[Redirect], list[Word]]:
        built: list[Redirect] = []
        extra: list[Word] = []
        for node in nodes:
            if node.type == "file_redirect":
                self._file_redirect(node, nested, depth, built, extra)
            elif node.type == "herestring_redirect":
                self.flag("feeds a here-string to a command")
                parts = node.named_children
                word = self._word(list(parts), nested, depth) if parts else None
                built.append(Redirect(op="<<<", target=word))
            elif node.type == "heredoc_redirect":
                self._heredoc(node, nested, piped, depth, built, extra)
            elif node.is_named:
                self.visit(node, nested=nested, piped=piped, depth=depth + 1)
            elif node.type.strip():
                self.flag(f"uses {node.type!r}")
        return built, extra

    def _file_redirect(
        self, node: Node, nested: bool, depth: int, built: list[Redirect], extra: list[Word]
    ) -> None:
        fd: str | None = None
        op = ""
        target: Word | None = None
        before = len(extra)
        groups: list[list[Node]] = []
        for child in node.children:
            if child.type == "file_descriptor":
                fd = node_text(child, self.src)
            elif not child.is_named:
                op = child.type
            elif groups and groups[-1][-1].end_byte == child.start_byte:
                groups[-1].append(child)  # one word for bash
            else:
                groups.append([child])
        for group in groups:
            if not op.endswith("-") and target is None:
                target = self._word(group, nested, depth)
            else:
                extra.append(self._word(group, nested, depth))
        if op.endswith("-") and len(op) > 2:  # '>&-' / '<&-' close a descriptor
            op, target = op[:-1], Word(value="-", raw="-")
        if op in ("&>", "&>>") and len(extra) > before:
            # POSIX sh (dash is /bin/sh on Debian) reads 'a &>f b' as 'a &' then '>f b':
            # the words after the redirection become a second command.
            self.error = self.error or "puts words after &>, which sh runs as another command"
        built.append(Redirect(op=op, fd=fd, target=target))

    def _heredoc(
        self,
        node: Node,
        nested: bool,
        piped: bool,
        depth: int,
        built: list[Redirect],
        extra: list[Word],
    ) -> None:
        self.flag("feeds a here-document to a command")
        op = "<<"
        delimiter = ""
        body: str | None = None
        after_operator: str | None = None
        for child in node.children:
            kind = child.type
            if not child.is_named:
                if kind in ("<<", "<<-"):
                    op = kind
                elif kind.strip():
                    after_operator = kind
                continue
            if kind == "heredoc_start":
                delimiter = node_text(child, self.src)
            elif kind == "heredoc_body":
                body = self._heredoc_body(child, delimiter, nested, depth)
            elif kind == "heredoc_end":
                continue
            elif after_operator is not None:
                self.visit(child, nested=nested, piped=after_operator in _PIPES, depth=depth + 1)
            elif kind == "pipeline":  # 'cat <<EOF | python': the grammar nests the pipe here
                self.visit(child, nested=nested, piped=True, depth=depth + 1)
            elif kind == "file_redirect":
                self._file_redirect(child, nested, depth, built, extra)
            elif kind in ("list", "command", "redirected_statement"):
                self.visit(child, nested=nested, piped=piped, depth=depth + 1)
            else:
                extra.append(self._word([child], nested, depth))
        built.append(Redirect(op=op, heredoc=body))

    def _heredoc_body(self, node: Node, delimiter: str, nested: bool, depth: int) -> str | None:
        text = node_text(node, self.src)
        if _QUOTED_DELIMITER.match(delimiter):
            return text
        expanding = [c for c in node.named_children if c.type != "heredoc_content"]
        for child in expanding:
            self.visit(child, nested=True, piped=False, depth=depth + 1)
        if expanding:
            return None
        # An unquoted delimiter: bash removes backslash-newline and unescapes \$ \` \\.
        return re.sub(r"\\(\n|[$`\\])", lambda m: "" if m.group(1) == "\n" else m.group(1), text)

    # ---------------------------------------------------------- differentials

    def skipped_text(self, root: Node) -> int | None:
        """Where the grammar skipped text outside whitespace (``None``: nowhere).

        Every character outside whitespace must belong to a token the grammar read.

        The grammar skips a backslash-escaped space at the start of a word, so in
        ``echo \\ #x; touch p`` it sees a comment where bash sees the word `` #x`` and
        then runs ``touch p``. Text the grammar skipped is text the analysis did not see.
        """
        covered = bytearray(len(self.src))
        stack = [root]
        while stack:
            node = stack.pop()
            if node.child_count == 0 or node.type in _PROTECTED_TEXT:
                covered[node.start_byte : node.end_byte] = b"\x01" * (
                    node.end_byte - node.start_byte
                )
                continue
            stack.extend(node.children)
        for index, byte in enumerate(self.src):
            if covered[index] or byte in b" \t\n":
                continue
            if byte == 0x5C and self.src[index + 1 : index + 2] == b"\n":
                continue  # a line continuation: check_continuations decides
            return index
        return None

    def check_continuations(self, root: Node) -> None:
        """Flag a backslash-newline inside a word: bash joins the two halves into one
        word, the grammar reads two (``sort -\\<newline>o out`` is ``sort -o out``)."""
        if b"\\\n" not in self.src:
            return
        protected: list[tuple[int, int]] = []
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type in _PROTECTED_TEXT:
                protected.append((node.start_byte, node.end_byte))
                continue
            stack.extend(node.children)
        for match in re.finditer(rb"(\\+)\n", self.src):
            if len(match.group(1)) % 2 == 0:
                continue
            slash = match.end() - 2
            if any(start <= slash < end for start, end in protected):
                continue
            before = self.src[slash - 1 : slash] if slash > 0 else b" "
            after = self.src[match.end() : match.end() + 1] or b" "
            if before not in (b" ", b"\t", b"\n") and after not in (b" ", b"\t", b"\n"):
                self.error = self.error or "continues a word over a line break"
                return
