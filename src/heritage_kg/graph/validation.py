"""The two checks of the graph: SHACL validation of the store against `ontology/shapes.ttl`,
and OWL reasoning (HermiT, through owlready2) over the ontology itself.

A store of millions of triples does not fit pySHACL's in-memory graph at once, so each shape's
targets are checked in batches: every batch pulls the targets' statements, the types of what
they point at, and the statements that the shapes follow backwards, which is all the shapes
look at."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyshacl
from rdflib import Graph, URIRef

from heritage_kg.errors import ReasonerError
from heritage_kg.graph.namespaces import SH
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore
from heritage_kg.resources import ONTOLOGY, SHAPES

BATCH = 2000


@dataclass
class ValidationReport:
    conforms: bool = True
    checked: dict[str, int] = field(default_factory=dict)  # class IRI -> resources checked
    violations: list[str] = field(default_factory=list)  # one line each

    def summary_lines(self) -> list[str]:
        lines = [f"{cls.rsplit('#', 1)[-1]}: {n:,} checked" for cls, n in self.checked.items()]
        lines.append("conforms" if self.conforms else f"{len(self.violations)} violations:")
        lines.extend(self.violations[:50])
        if len(self.violations) > 50:
            lines.append(f"... and {len(self.violations) - 50} more")
        return lines


def load_shapes(path: Path = SHAPES) -> Graph:
    """The SHACL shapes at `path` (default: the project's ontology/shapes.ttl)."""
    return Graph().parse(path, format="turtle")


def validate_graph(data: Graph, shapes: Graph | None = None) -> tuple[bool, list[str]]:
    """Validates an in-memory graph; returns whether it conforms and one line per violation."""
    conforms, results, _ = pyshacl.validate(data, shacl_graph=shapes or load_shapes(), inference="none",
                                            advanced=True, allow_warnings=False)
    lines = []
    for result in results.subjects(predicate=URIRef(SH + "focusNode")):
        focus = results.value(result, URIRef(SH + "focusNode"))
        path = results.value(result, URIRef(SH + "resultPath"))
        message = results.value(result, URIRef(SH + "resultMessage"))
        lines.append(f"{focus} {path or ''}: {message}")
    return bool(conforms), sorted(lines)


def validate_store(store: GraphStore, *, shapes_file: Path = SHAPES, sample: int | None = None,
                   progress=None) -> ValidationReport:
    """Checks the store against the SHACL shapes in `shapes_file`, in batches of each shape's targets."""
    shapes = load_shapes(shapes_file)
    report = ValidationReport()
    target_classes = sorted({str(c) for c in shapes.objects(predicate=URIRef(SH + "targetClass"))})
    focus_query = load_query("shape_targets").text
    inverse = sorted({o.n3() for o in shapes.objects(predicate=URIRef(SH + "inversePath"))})
    describe_query = load_query("shape_focus_description").text.replace(
        "#INVERSE", "VALUES ?inP { " + " ".join(inverse) + " }")
    for cls in target_classes:
        _, rows = store.select(focus_query, {"class": URIRef(cls)})
        targets = [row["resource"] for row in rows][: sample or None]
        report.checked[cls] = len(targets)
        task = progress.add_task(f"validate {cls.rsplit('#', 1)[-1]}", total=len(targets)) if progress else None
        for start in range(0, len(targets), BATCH):
            batch = targets[start:start + BATCH]
            data = Graph()
            for triple in store.construct(describe_query.replace("#FOCUS", "VALUES ?focus { " + " ".join(t.n3() for t in batch) + " }")):
                data.add(triple)
            conforms, lines = validate_graph(data, shapes)
            # a batch holds neighbours of other classes too; report each violation once, under its class
            in_batch = {str(t) for t in batch}
            lines = [line for line in lines if line.split(" ", 1)[0] in in_batch]
            if lines:
                report.conforms = False
                report.violations.extend(lines)
            if progress:
                progress.advance(task, len(batch))
    return report


@dataclass(frozen=True)
class ReasonerReport:
    """What HermiT found: whether any model satisfies the ontology, and the classes that can
    have no member (equivalent to owl:Nothing)."""

    consistent: bool
    unsatisfiable: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def sound(self) -> bool:
        return self.consistent and not self.unsatisfiable

    def summary_lines(self) -> list[str]:
        if not self.consistent:
            return [f"HermiT: the ontology is inconsistent: no interpretation satisfies all of its axioms "
                    f"({self.seconds:.1f} s)"]
        lines = [f"HermiT: the ontology is consistent; {len(self.unsatisfiable)} unsatisfiable classes "
                 f"({self.seconds:.1f} s)"]
        lines.extend(f"  unsatisfiable: {iri}" for iri in self.unsatisfiable)
        return lines


def reason(ontology: Graph) -> ReasonerReport:
    """Runs HermiT over `ontology` (with any individuals it holds). HermiT needs a Java runtime;
    without one a ReasonerError says what to install."""
    import owlready2  # loads its own SQLite quadstore: only where reasoning is asked for

    clock = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="heritage-kg-reasoner-") as folder:
        path = Path(folder) / "ontology.owl"
        ontology.serialize(path, format="xml")  # owlready2 does not read Turtle
        world = owlready2.World()
        try:
            loaded = world.get_ontology(path.as_uri()).load()
            with loaded:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return ReasonerReport(consistent=False, seconds=time.perf_counter() - clock)
        except FileNotFoundError as exc:
            raise ReasonerError(f"HermiT needs a Java runtime and none was found ({exc.filename or 'java'}): "
                                f"install one (Debian: apt-get install default-jre-headless)") from None
        except owlready2.OwlReadyJavaError as exc:
            raise ReasonerError(f"HermiT failed: {str(exc).strip()[-500:]}") from None
        # owl:Nothing itself is listed beside the classes found equivalent to it
        unsatisfiable = tuple(sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing))
        world.close()
    return ReasonerReport(consistent=True, unsatisfiable=unsatisfiable, seconds=time.perf_counter() - clock)


def load_ontology(path: Path = ONTOLOGY) -> Graph:
    """The ontology in Turtle at `path` (default: the project's ontology/heritage.ttl)."""
    try:
        return Graph().parse(path, format="turtle")
    except (OSError, SyntaxError) as exc:  # rdflib's BadSyntax is a SyntaxError
        raise ReasonerError(f"cannot read the ontology {path} as Turtle: {exc}") from None
