"""kushim: log in, ingest JSONL files, look at groups and context, check health."""

import argparse
import getpass
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kushim_cli import credentials, views
from kushim_cli.client import DEFAULT_URL, ApiError, Client, CliError
from kushim_cli.ingest import MAX_BATCH, Tally, ingest

# How long `kushim ingest` waits, by default, for discovery of what it sent.
WAIT_S = 1800.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kushim", description=__doc__)
    parser.add_argument("--url", help=f"API base URL (default: $KUSHIM_URL or {DEFAULT_URL})")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    commands = parser.add_subparsers(dest="command", required=True)

    login = commands.add_parser("login", help="get a token (saved with 0600 permissions)")
    login.add_argument("--email")
    login.add_argument("--register", action="store_true", help="create the account first")
    login.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input (for scripts)")

    ingest_cmd = commands.add_parser(
        "ingest", help="upload records from a JSONL file",
        description="Uploads records in batches. Each record's outcome is the server's: "
        "created, updated, unchanged, rejected, or retried (a batch sent again after a "
        "transient failure found the record already stored, by the interrupted attempt or "
        "before). A batch answers once its records are stored; discovery its deadline left "
        "out runs right after, and the command waits for it (a progress bar) unless "
        "--no-wait.",
    )
    ingest_cmd.add_argument("file", type=Path)
    ingest_cmd.add_argument("--batch-size", type=int, default=MAX_BATCH,
                            help=f"records per request, 1 to {MAX_BATCH} (default {MAX_BATCH})")
    ingest_cmd.add_argument("--restart", action="store_true",
                            help="ignore the checkpoint and start from the first line")
    ingest_cmd.add_argument("--no-wait", action="store_true",
                            help="do not wait until discovery is done for the records sent")
    ingest_cmd.add_argument("--wait-timeout", type=float, default=WAIT_S, metavar="SECONDS",
                            help=f"wait at most this long for discovery (default {WAIT_S:g})")

    groups = commands.add_parser("groups", help="list context groups")
    groups.add_argument("--limit", type=int, default=50)
    groups.add_argument("--offset", type=int, default=0)

    context = commands.add_parser("context", help="the records and links around a record")
    context.add_argument("record_id")
    context.add_argument("--depth", type=int, default=2, choices=(1, 2, 3))

    commands.add_parser("health", help="readiness of the API and its dependencies")
    return parser


def _password(args: argparse.Namespace, confirm: bool) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Repeat password: ") != password:
        raise CliError("passwords do not match")
    return password


def login(client: Client, args: argparse.Namespace, console: Console,
          env: dict[str, str]) -> int:
    email = args.email or input("Email: ").strip()
    password = _password(args, confirm=args.register and not args.password_stdin)
    body = {"email": email, "password": password}
    if args.register:
        try:
            client.post("/auth/register", body)
        except ApiError as exc:
            if exc.status != 409:
                raise
            console.print("Account exists already: logging in")
    answer = client.post("/auth/login", body)
    path = credentials.save(client.base_url, answer["token"], email, env)
    console.print(f"Logged in as {email}; token saved to {path}")
    return 0


def _summary(tally: Tally, console: Console) -> None:
    table = Table(title="Ingest summary")
    for outcome in tally.counts:
        table.add_column(outcome, justify="right")
    table.add_row(*(str(n) for n in tally.counts.values()))
    console.print(table)
    if tally.pending:
        done = len(tally.pending) - tally.still_pending
        console.print(f"Discovery done for {done} of the {len(tally.pending)} records "
                      "answered pending" + ("" if not tally.still_pending else
                                             "; the rest is still running on the server"))
    if tally.rejections:
        rejected = Table(title="Rejected lines")
        for column in ("line", "field", "reason"):
            rejected.add_column(column)
        for item in tally.rejections[:50]:
            rejected.add_row(str(item["line"]), item.get("field") or "", item["reason"])
        console.print(rejected)
        hidden = tally.counts["rejected"] - min(50, len(tally.rejections))
        if hidden > 0:
            console.print(f"... and {hidden} more rejected lines")


def run(argv: list[str] | None = None, env: dict[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    args = _parser().parse_args(argv)
    url = (args.url or env.get("KUSHIM_URL") or DEFAULT_URL).rstrip("/")
    console = Console()
    errors = Console(stderr=True)
    client = Client(url, credentials.load(url, env))
    try:
        if args.command == "login":
            return login(client, args, console, env)
        if args.command == "health":
            return views.health(client, console, as_json=args.json)
        if not client.token:
            raise CliError("not logged in: run `kushim login` (or set KUSHIM_TOKEN)")
        if args.command == "ingest":
            wait_s = 0.0 if args.no_wait else max(0.0, args.wait_timeout)
            tally = ingest(client, args.file, batch_size=args.batch_size, restart=args.restart,
                           console=errors, wait_s=wait_s)
            _summary(tally, console)
            return 1 if tally.counts["rejected"] else 0
        if args.command == "groups":
            return views.groups(client, console, limit=args.limit, offset=args.offset,
                                as_json=args.json)
        return views.context(client, console, args.record_id, depth=args.depth,
                             as_json=args.json)
    except CliError as exc:
        errors.print(f"kushim: {exc}", style="red", markup=False, highlight=False,
                     soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        errors.print("kushim: interrupted")
        return 130
    except EOFError:
        errors.print("kushim: no input")
        return 2


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
