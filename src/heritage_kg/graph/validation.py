"""SHACL validation of the store against `ontology/shapes.ttl`. A store of millions of triples
does not fit pySHACL's in-memory graph at once, so each shape's targets are checked in batches:
every batch pulls the targets' statements, the types of what they point at, and the statements
that the shapes follow backwards, which is all the shapes look at."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyshacl
from rdflib import Graph, URIRef

from heritage_kg.config import get_settings
from heritage_kg.graph.namespaces import SH
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore

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


def load_shapes() -> Graph:
    return Graph().parse(get_settings().ontology_dir / "shapes.ttl", format="turtle")


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


def validate_store(store: GraphStore, *, sample: int | None = None, progress=None) -> ValidationReport:
    shapes = load_shapes()
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
