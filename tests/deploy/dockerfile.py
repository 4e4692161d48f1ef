"""services/Dockerfile read as stages: one target per service image, standing on shared
stages (the runtime it derives from, the build stages it copies from)."""

from dataclasses import dataclass, field

from tests.deploy.support import REPO

DOCKERFILE = REPO / "services" / "Dockerfile"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, *words: str) -> list[str]:
        return [args for word, args in self.instructions if word in words]


def parse(path=DOCKERFILE) -> list[Stage]:
    """Stages of a Dockerfile, each with its (INSTRUCTION, arguments), continuations joined."""
    lines, current = [], ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += " " + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            lines.append(current.strip())
            current = ""
    stages: list[Stage] = []
    for line in lines:
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            parts = rest.split()
            flags = [p for p in parts if p.startswith("--")]
            assert not flags, f"{path}: FROM {flags}"
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        else:
            assert stages, f"{path}: {word} before FROM"
            stages[-1].instructions.append((word, rest))
    return stages


def _lineage(name: str, by_name: dict[str, Stage]) -> list[Stage]:
    """The stage and those it is FROM, base first."""
    chain = [by_name[name]]
    while chain[0].base in by_name:
        chain.insert(0, by_name[chain[0].base])
    return chain


@dataclass
class Image:
    shipped: list[Stage]  # the target's lineage: what the image is made of
    build: list[Stage]  # the stages it copies from, with their lineage

    @property
    def target(self) -> Stage:
        return self.shipped[-1]


def image(service: str) -> Image:
    by_name = {s.name: s for s in parse() if s.name}
    assert service in by_name, f"services/Dockerfile has no target {service}"
    shipped = _lineage(service, by_name)
    sources = {
        args.split()[0].removeprefix("--from=")
        for stage in shipped for args in stage.args("COPY") if args.startswith("--from=")
    }
    build = [s for source in sorted(sources) for s in _lineage(source, by_name)]
    return Image(shipped, build)
