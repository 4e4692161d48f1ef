"""Where devstack keeps things: everything it writes lives under the repository's var/."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NEO4J_DEPLOY_DIR = REPO_ROOT / "deploy" / "local" / "neo4j"
# the pom of the embedding model of the semantic link pass
EMBEDDING_MODEL_DEPLOY_DIR = REPO_ROOT / "services" / "graph" / "embedding-model"


def var_dir(root: Path = REPO_ROOT) -> Path:
    """Return root/var, created on first use and ignoring itself in git (belt and braces
    beside the repository's own .gitignore)."""
    path = root / "var"
    path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return path


def neo4j_lib_dir(root: Path = REPO_ROOT) -> Path:
    return var_dir(root) / "neo4j-lib"


def embedding_model_dir(root: Path = REPO_ROOT) -> Path:
    return var_dir(root) / "embedding-model"
