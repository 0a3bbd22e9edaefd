"""PROV for everything this software writes into the store: a graph build, an artist-linking
run and (next) a classification run are each a prov:Activity of the heritage-kg software agent,
with its start and end, the software version, and the entities it used and generated."""

from __future__ import annotations

from datetime import UTC, datetime

from heritage_kg import __version__
from heritage_kg.graph.namespaces import HK, PROV, RDF, XSD
from heritage_kg.graph.nquads import QuadWriter, typed

SOFTWARE_AGENT = HK + "HeritageKGSoftware"
TYPE = RDF + "type"


def activity_stamp(started: datetime) -> str:
    """The last segment of an activity's IRI: its start, to the microsecond ("20260129T101500123456Z")."""
    return started.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def write_activity(graph: QuadWriter, activity: str, cls: str, started: datetime, *,
                   ended: datetime | None = None, agent: str = SOFTWARE_AGENT) -> None:
    """A prov:Activity of class `cls` (hk:GraphBuild, hk:LinkingRun, hk:ClassificationRun),
    associated with `agent` (this software unless said otherwise), ending at `ended` or now."""
    graph.iri(activity, TYPE, cls)
    graph.term(activity, PROV + "startedAtTime", _timestamp(started))
    graph.term(activity, PROV + "endedAtTime", _timestamp(ended or datetime.now(UTC)))
    graph.iri(activity, PROV + "wasAssociatedWith", agent)
    graph.text(activity, HK + "softwareVersion", __version__)


def write_source_archive(graph: QuadWriter, activity: str, archive: str, location: str, checksum: str) -> None:
    """A source file the activity read (a collection archive, an authority file), with its checksum."""
    write_used(graph, activity, archive, HK + "SourceArchive")
    graph.text(archive, HK + "sourceLocation", location)
    graph.text(archive, HK + "checksum", checksum)


def write_used(graph: QuadWriter, activity: str, entity: str, cls: str | None = None,
               relation: str = PROV + "used") -> None:
    """An entity the activity used, by prov:used or a sub-property of it (hk:usedModel for the
    model of a classification run), typed `cls` where given."""
    graph.iri(activity, relation, entity)
    if cls is not None:
        graph.iri(entity, TYPE, cls)


def write_generated(graph: QuadWriter, activity: str, entity: str) -> None:
    """An entity (an artist match, a prediction) the activity generated."""
    graph.iri(entity, PROV + "wasGeneratedBy", activity)


def _timestamp(moment: datetime) -> str:
    return typed(moment.isoformat(), XSD + "dateTime")
