"""The generated results block of a README (bench/README.md, chaos/README.md): the latest
run's table between two markers; the rest of the file stays as written."""

from pathlib import Path

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"


def update_readme(path: Path, table: str, results_file: str, *, new_file_head: str = "") -> None:
    """Replace the block in path (append one if there is none; a missing file starts with
    new_file_head)."""
    text = path.read_text() if path.exists() else new_file_head + f"{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    block = f"{BEGIN}\n## Latest results (`results/{results_file}`)\n\n{table}{END}"
    path.write_text(head + block + tail)
