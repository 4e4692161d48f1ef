"""The semantic link pass: links between records that name no id, found from the meaning of
their texts, off the request path (worker.py), with a local embedding model (model.py)."""
