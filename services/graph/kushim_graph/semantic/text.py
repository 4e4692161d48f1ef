"""The text of a record that its embedding is computed from."""

# Characters, not tokens: the tokenizer truncates to the model's budget; this only keeps a long
# body from being tokenized in full to be thrown away.
MAX_CHARS = 1_000


def embedding_text(title: str, body: str) -> str:
    """Title and the start of the body."""
    return f"{title.strip()}\n{body.strip()}"[:MAX_CHARS]
