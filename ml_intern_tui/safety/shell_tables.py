"""Per-program tables: the options of the programs that may run without asking.

Each entry says which options a program knows (so bundles, values and GNU long-option
prefixes are read as the program reads them), which of them write a file or run a
program (``denied``), whether its operands are files it prints (checked for secrets), and
extra rules that options alone cannot express (``uniq IN OUT`` writes ``OUT``). The
tables follow GNU coreutils 9, grep 3, ripgrep 14, tree 2 and procps-ng 4.
"""

from __future__ import annotations

from dataclasses import dataclass

from ml_intern_tui.safety.shell_options import OptionTable, table

WRITES = "writes a file"
RUNS = "runs a program"


@dataclass(frozen=True)
class Program:
    """What the analysis knows about one read-only program."""

    options: OptionTable | None = None
    """``None``: any argument is harmless (``echo``, ``stat``, ``df``)."""
    reads: bool = False
    """Operands are files whose contents are printed (checked for credentials)."""
    read_options: frozenset[str] = frozenset()
    """Options whose value is a file whose contents may be printed."""
    recursive_options: frozenset[str] = frozenset()
    """Options that make it read whole directory trees."""
    always_recursive: bool = False
    max_operands: int | None = None
    operand_reason: str = ""
    """Why more operands than ``max_operands`` (or a glob among them) is not read-only."""
    denied_env: tuple[str, ...] = ()
    """Environment variables that make it run or write something."""


LS = table(
    "-a -A -b -B -c -C -d -D -f -F -g -G -h -H -i -I= -k -l -L -m -n -N -o -p -q -Q -r -R "
    "-s -S -t -T= -u -U -v -w= -x -X -Z -1 --all --almost-all --author --escape "
    "--block-size= --ignore-backups --color? --colour? --directory --dired --classify? "
    "--file-type --format= --full-time --group-directories-first --no-group "
    "--human-readable --si --dereference-command-line "
    "--dereference-command-line-symlink-to-dir --hide= --hyperlink? --indicator-style= "
    "--inode --ignore= --kibibytes --dereference --literal --numeric-uid-gid "
    "--hide-control-chars --show-control-chars --quote-name --quoting-style= --reverse "
    "--recursive --size --sort= --time= --time-style= --tabsize= --width= --context --zero "
    "--help --version"
)
CAT = table(
    "-A -b -e -E -n -s -t -T -u -v --show-all --number-nonblank --show-ends --number "
    "--squeeze-blank --show-tabs --show-nonprinting --help --version"
)
HEAD = table(
    "-c= -n= -q -v -z --bytes= --lines= --quiet --silent --verbose --zero-terminated "
    "--help --version",
    numeric=True,
)
TAIL = table(
    "-c= -f -F -n= -q -s= -v -z --bytes= --follow? --lines= --max-unchanged-stats= --pid= "
    "--quiet --retry --silent --sleep-interval= --verbose --zero-terminated --help --version",
    numeric=True,
)
WC = table(
    "-c -m -l -L -w --bytes --chars --lines --files0-from= --max-line-length --words "
    "--total= --help --version"
)
GREP = table(
    "-E -F -G -P -e= -f= -i -y -w -x -z -s -v -V -m= -b -n -H -h -o -q -a -I -r -R -L -l -c "
    "-T -Z -U -A= -B= -C= -D= -d= --extended-regexp --fixed-strings --basic-regexp "
    "--perl-regexp --regexp= --file= --ignore-case --no-ignore-case --word-regexp "
    "--line-regexp --null-data --no-messages --invert-match --version --help --max-count= "
    "--byte-offset --line-number --no-line-number --line-buffered --with-filename "
    "--no-filename --label= --only-matching --quiet --silent --binary-files= --text "
    "--directories= --devices= --recursive --dereference-recursive --include= --exclude= "
    "--exclude-from= --exclude-dir= --files-without-match --files-with-matches --count "
    "--initial-tab --null --before-context= --after-context= --context= --color? --colour? "
    "--binary",
    numeric=True,
)
RG = table(
    "-a -b -c -F -H -h -I -i -L -l -N -n -o -P -p -q -S -s -U -u -V -v -w -x -0 -. "
    "-A= -B= -C= -E= -M= -T= -d= -e= -f= -g= -j= -m= -r= -t=",
    {
        "--pre": RUNS + " on every file",
        "--hostname-bin": RUNS,
        "--search-zip": "runs decompression programs",
        "-z": "runs decompression programs",
    },
    unknown_long_ok=True,
)
SORT = table(
    "-b -d -f -g -i -M -h -n -R -r -V -c -C -m -s -u -z -k= -S= -t= -T= -o= "
    "--ignore-leading-blanks --dictionary-order --ignore-case --general-numeric-sort "
    "--ignore-nonprinting --month-sort --human-numeric-sort --numeric-sort --random-sort "
    "--random-source= --reverse --sort= --version-sort --batch-size= --check? "
    "--compress-program= --debug --files0-from= --key= --merge --output= --stable "
    "--buffer-size= --field-separator= --temporary-directory= --parallel= --unique "
    "--zero-terminated --help --version",
    {"-o": WRITES, "--output": WRITES, "--compress-program": RUNS},
)
UNIQ = table(
    "-c -d -D -f= -i -s= -u -w= -z --count --repeated --all-repeated? --skip-fields= "
    "--group? --ignore-case --skip-chars= --unique --zero-terminated --check-chars= "
    "--help --version"
)
CUT = table(
    "-b= -c= -d= -f= -n -s -z --bytes= --characters= --delimiter= --fields= --complement "
    "--only-delimited --output-delimiter= --zero-terminated --help --version"
)
NL = table(
    "-b= -d= -f= -h= -i= -l= -n= -p -s= -v= -w= --body-numbering= --section-delimiter= "
    "--footer-numbering= --header-numbering= --line-increment= --join-blank-lines= "
    "--number-format= --no-renumber --number-separator= --starting-line-number= "
    "--number-width= --help --version"
)
TAC = table("-b -r -s= --before --regex --separator= --help --version")
STRINGS = table(
    "-a -d -f -n= -t= -e= -o -w -s= -T= -U= --all --data --print-file-name --bytes= "
    "--radix= --encoding= --include-all-whitespace --output-separator= --target= "
    "--unicode= --help --version"
)
FILE = table(
    "-b -c -d -e= -E -f= -F= -h -i -k -l -L -m= -n -N -p -P= -r -s -S -v -0 --brief "
    "--checking-printout --debug --exclude= --exclude-quiet= --extension --files-from= "
    "--separator= --help --no-dereference --dereference --mime --mime-type "
    "--mime-encoding --keep-going --list --magic-file= --no-buffer --no-pad "
    "--preserve-date --parameter= --raw --special-files --no-sandbox --version --print0 "
    "-C --compile -z -Z --uncompress --uncompress-noreport",
    {
        "-C": "writes a compiled magic file",
        "--compile": "writes a compiled magic file",
        "-z": "runs decompression programs",
        "-Z": "runs decompression programs",
        "--uncompress": "runs decompression programs",
        "--uncompress-noreport": "runs decompression programs",
    },
)
DATE = table(
    "-d= -f= -I? -R -r= -s= -u --date= --debug --file= --iso-8601? --resolution "
    "--rfc-email --rfc-3339= --reference= --set= --universal --utc --help --version",
    {"-s": "sets the system clock", "--set": "sets the system clock"},
)
TREE = table(
    "-a -A -c -C -d -D -f -F -g -h -i -J -l -n -N -p -q -Q -r -s -S -t -u -v -x -X "
    "-L= -P= -I= -o= -H= -T= -R --noreport --charset= --filelimit= --timefmt= --si --du "
    "--prune --info --gitignore --gitfile= --fromfile --dirsfirst --filesfirst --sort= "
    "--matchdirs --metafirst --ignore-case --nolinks --hintro= --houtro= --help --version "
    "--noindent --condense",
    {"-o": "writes its listing to a file", "-R": "writes 00Tree.html files"},
)
HOSTNAME = table(
    "-a -A -d -f -i -I -s -y --alias --all-fqdns --domain --fqdn --long --ip-address "
    "--all-ip-addresses --short --yp --nis --help --version -F= --file= -b --boot",
    {
        "-F": "sets the host name",
        "--file": "sets the host name",
        "-b": "sets the host name",
        "--boot": "sets the host name",
    },
)
CD = table("-L -P -e -@")

FILES0 = frozenset({"--files0-from"})
"""Reads file NAMES from a file, and names the ones it cannot open: the file's contents
reach the output (``wc --files0-from=/proc/self/environ`` prints every variable)."""

ANY = Program()
"""A program none of whose arguments write or run anything."""

PROGRAMS: dict[str, Program] = {
    "ls": Program(LS),
    "cat": Program(CAT, reads=True),
    "head": Program(HEAD, reads=True),
    "tail": Program(TAIL, reads=True),
    "tac": Program(TAC, reads=True),
    "wc": Program(WC, read_options=FILES0),
    "grep": Program(
        GREP,
        reads=True,
        read_options=frozenset({"-f", "--file", "--exclude-from"}),
        recursive_options=frozenset({"-r", "-R", "--recursive", "--dereference-recursive"}),
    ),
    "rg": Program(
        RG,
        reads=True,
        read_options=frozenset({"-f", "--file", "--ignore-file"}),
        always_recursive=True,
        denied_env=("RIPGREP_CONFIG_PATH",),
    ),
    "sort": Program(SORT, reads=True, read_options=FILES0),
    "uniq": Program(
        UNIQ, reads=True, max_operands=1, operand_reason="uniq writes its second file argument"
    ),
    "cut": Program(CUT, reads=True),
    "nl": Program(NL, reads=True),
    "strings": Program(STRINGS, reads=True),
    "file": Program(FILE, read_options=frozenset({"-f", "--files-from", "-m", "--magic-file"})),
    "date": Program(DATE, read_options=frozenset({"-f", "--file"})),
    "tree": Program(TREE, read_options=frozenset({"--hintro", "--houtro"})),
    "hostname": Program(HOSTNAME, max_operands=0, operand_reason="hostname NAME sets it"),
    "cd": Program(CD, max_operands=1, operand_reason="cd takes one directory"),
    "du": Program(read_options=frozenset({"--files0-from", "-X", "--exclude-from"})),
    "diff": Program(
        reads=True,
        read_options=frozenset({"--from-file", "--to-file"}),
        recursive_options=frozenset({"-r", "--recursive"}),
    ),
    "cmp": Program(reads=True),
    "comm": Program(reads=True),
    **{
        name: ANY
        for name in (
            "echo", "printf", "pwd", "true", "false", "df", "stat", "which", "uname",
            "whoami", "id", "nproc", "free", "uptime", "lscpu", "basename", "dirname",
            "realpath", "readlink", "seq", "tr", "md5sum", "sha1sum", "sha256sum",
            "sha512sum", "b2sum",
        )
    },
}  # fmt: skip
"""Programs judged by their table (``find``, ``ps``, ``git``, … have their own rules)."""

RUNNERS: frozenset[str] = frozenset(
    {
        "env", "xargs", "nice", "timeout", "nohup", "command", "builtin", "exec", "eval",
        "time", "stdbuf", "sudo", "doas", "su", "runuser", "pkexec", "watch", "flock",
        "setsid", "chroot", "ionice", "taskset", "chrt", "numactl", "strace", "ltrace",
        "unshare", "nsenter", "firejail", "bwrap", "proot", "valgrind", "gdb", "catchsegv",
        "script", "parallel", "coproc", "source", ".", "sh", "bash", "dash", "zsh", "ksh",
        "mksh", "fish", "csh", "tcsh", "busybox", "perf", "entr", "hyperfine", "caffeinate",
        "xvfb-run", "dbus-launch", "expect", "tmux", "screen", "ssh", "trap", "alias",
    }
)  # fmt: skip
"""Programs that run another program (or a script): never read-only, whatever follows."""

SYSTEM_BIN_DIRS: frozenset[str] = frozenset(
    {"/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin", "/usr/local/sbin"}
)
"""``/usr/bin/ls`` is ``ls``; a program from any other directory is not the one we know."""
