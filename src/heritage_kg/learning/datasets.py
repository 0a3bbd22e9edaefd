"""Training sets derived from the graph: subject labels chosen by SPARQL over the store and the
selection rule of method.md section 2, split 80/10/10 by multi-label iterative stratification,
and kept as a versioned folder (`table.parquet` + `manifest.json`) that features and training read.

The folder contract, at `datasets_dir / NAME` (the command line's `Settings.datasets_dir`):

- `table.parquet`, one row per artwork: `artwork` (IRI), `split` ("train" | "validation" |
  "test"), `labels` (the selected concept IRIs the artwork has), `tasks` (the top-level concept
  IRI of each task in which it has a label), `title`, `artists` (artist IRIs), `medium_groups`
  (medium-group IRIs), `image_url` (its thumbnail, or null), `year` (its start year, or null) and
  `catalogue_groups` (the IRIs of the catalogue groups it belongs to: a sketchbook, a print series).
- `manifest.json`: a `DatasetManifest` (name, version, created, parameters, the query texts
  used, the store build it came from, the label list with counts per split and in all, the split
  sizes, and the image filter of a visual-mode dataset).

A visual-mode dataset (`DatasetSpec.require_image`) is built from the artworks that have an
image only: those whose image is in the image cache, once images have been fetched there, else
those with a thumbnail URL. The selection rule and the split are then made over those artworks,
so every label reaches its threshold among artworks a visual model can see.

Curators' reviews of model predictions (graph/curator/reviews) are left out of a dataset unless
`DatasetSpec.include_accepted`: then every accepted prediction adds its concept (and the concepts
above it) to the artwork's labels, whatever collection the artwork is in, and rejected ones are
never labels (a rejection does not remove the collection's own annotation: the museum's record
stands). The manifest counts both (`ReviewCounts`).

Medium subsets (`DatasetSpec.media`) are subsets OF the all-media dataset: the labels are
selected and the split is made over every artwork, then only the artworks in the given medium
groups are kept. A subset thus has the label space of the full dataset (a label may count zero
examples in it) and its test artworks are test artworks of the full dataset, so a model trained on
all media and one trained on a subset can be compared on the same held-out artworks.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rdflib import URIRef

from heritage_kg.errors import DatasetError
from heritage_kg.graph.namespaces import DEFAULT_BASE_IRI, Minter
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore
from heritage_kg.graph.updates import reviews_graph
from heritage_kg.learning.artefacts import JsonArtefact
from heritage_kg.sources.parsing import year as year_of

if TYPE_CHECKING:  # numpy, pyarrow and scikit-learn load where they are used: `heritage-kg --help` stays fast
    import numpy as np
    import pyarrow as pa

    from heritage_kg.learning.images import ImageCache

FORMAT_VERSION = 2  # 2: the manifest is a DatasetManifest (snake_case keys, image filter)
SPLITS = ("train", "validation", "test")
SPLIT_SHARES = (0.8, 0.1, 0.1)
DEFAULT_TASKS = ("nature", "architecture", "places", "people", "objects", "abstraction")
GRANULARITIES = ("level1", "level2")
ALL_MEDIA = "all"  # `--medium all`: the full dataset and one subset per medium group

# The queries a build runs, by role; their texts go into the manifest.
TASKS_QUERY = "dataset_tasks"
CATEGORIES_QUERY = "dataset_categories"
ANNOTATIONS_QUERY = "dataset_annotations"
ARTWORKS_QUERY = "dataset_artworks"
REVIEWS_QUERY = "dataset_reviews"
MEDIA_QUERY = "stats_media"
BUILDS_QUERY = "graph_builds"



def table_schema() -> pa.Schema:
    """The columns of `table.parquet`."""
    import pyarrow as pa

    return pa.schema([
        ("artwork", pa.string()),
        ("split", pa.string()),
        ("labels", pa.list_(pa.string())),
        ("tasks", pa.list_(pa.string())),
        ("title", pa.string()),
        ("artists", pa.list_(pa.string())),
        ("medium_groups", pa.list_(pa.string())),
        ("image_url", pa.string()),
        ("year", pa.int32()),
        ("catalogue_groups", pa.list_(pa.string())),
    ])


@dataclass(frozen=True)
class DatasetSpec:
    """What to build. Tasks are top-level subjects named by label ("nature") or IRI; media are
    medium groups named by slug ("painting"), label or IRI (empty: all media). `min_examples`
    is the level-2 threshold; at level 1 each task with an annotated artwork is one label."""

    name: str
    tasks: tuple[str, ...] = DEFAULT_TASKS
    granularity: str = "level2"
    min_examples: int = 700
    media: tuple[str, ...] = ()
    seed: int = 0
    collection: str = "tate"  # the collection whose subjects are learnt (Tate has them)
    require_image: bool = False  # visual mode: only artworks with an image (see the module's doc)
    include_accepted: bool = False  # curators' accepted predictions add labels (see the module's doc)

    def __post_init__(self):
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "media", tuple(self.media))
        if not self.name or "/" in self.name or self.name.startswith("."):
            raise DatasetError(f"a dataset name must be a plain folder name, not {self.name!r}")
        if self.granularity not in GRANULARITIES:
            raise DatasetError(f"granularity must be one of {', '.join(GRANULARITIES)}, not {self.granularity!r}")
        if not self.tasks:
            raise DatasetError("a dataset needs at least one task")
        if self.min_examples < 1:
            raise DatasetError(f"--min-examples must be at least 1, not {self.min_examples}")

    def parameters(self) -> dict:
        return {"tasks": list(self.tasks), "granularity": self.granularity, "min_examples": self.min_examples,
                "media": list(self.media), "seed": self.seed, "collection": self.collection,
                "require_image": self.require_image, "include_accepted": self.include_accepted}


@dataclass(frozen=True)
class Category:
    """A subject concept that can become a label: a task's top concept or one below it."""

    iri: str
    label: str
    task: str
    level: int
    broader: str | None = None


class ImageRule(StrEnum):
    """How a visual-mode dataset tells that an artwork has an image."""

    DECODED = "a decoded image in the image cache"  # once images have been fetched
    THUMBNAIL_URL = "a thumbnail URL"  # before any image is fetched


@dataclass(frozen=True)
class ImageFilter:
    """The filter a visual-mode dataset was built with, and what it left out."""

    rule: ImageRule
    image_cache: str | None  # the cache looked in (for the decoded-image rule)
    kept: int  # annotated artworks with an image
    left_out: int  # annotated artworks without one


@dataclass(frozen=True)
class ReviewCounts:
    """What curators' reviews did to a dataset built with `include_accepted`, counted in
    (artwork, reviewed concept) pairs of its tasks."""

    accepted: int  # accepted predictions
    accepted_added: int  # of those, the ones that gave the artwork a label it did not have
    rejected: int  # rejected predictions (no curator accepted the same pair)
    rejected_excluded: int  # of those, kept out of the labels (all but the collection's own annotations)


@dataclass(frozen=True)
class LabelEntry:
    """One label of a dataset: a subject concept, its task, and how many artworks carry it."""

    iri: str
    pref_label: str
    task: str
    task_label: str
    level: int
    broader: str | None
    broader_label: str | None
    counts: dict[str, int]  # per split, and "total"

    @property
    def display_label(self) -> str:
        """Level-2 names repeat under different parents ("cliff" of coast and of mountain)."""
        return self.pref_label if self.level < 2 else f"{self.broader_label} › {self.pref_label}"


@dataclass
class DatasetManifest(JsonArtefact):
    """What a dataset is and how it was made: `manifest.json` beside its table."""

    FILE: ClassVar[str] = "manifest.json"

    name: str
    version: str
    created: str
    parameters: dict
    tasks: dict[str, str]  # task IRI -> prefLabel, in the spec's order
    media: dict[str, str]  # medium-group IRI -> label, of a medium subset
    population: str
    queries: dict[str, str]  # query name -> text
    source: dict[str, str]  # the store build the dataset came from
    artworks: int
    splits: dict[str, int]
    labels: list[LabelEntry]
    image_filter: ImageFilter | None = None
    reviews: ReviewCounts | None = None  # built with include_accepted
    # a medium subset: the all-media dataset whose selection and split it shares, so that what
    # is leak-free for that dataset's held-out artworks is leak-free for its own
    split_of: str | None = None
    format: int = FORMAT_VERSION

    @classmethod
    def from_dict(cls, data: dict, folder: Path) -> DatasetManifest:
        if data.get("format") != FORMAT_VERSION:
            raise DatasetError(f"{folder / cls.FILE} is a dataset of format {data.get('format')}, this version "
                               f"reads format {FORMAT_VERSION}; build it again with 'heritage-kg dataset build "
                               f"--name {data.get('name', folder.name)}'")
        image_filter, reviews = data["image_filter"], data.get("reviews")
        return cls(**{**data, "labels": [LabelEntry(**entry) for entry in data["labels"]],
                      "image_filter": ImageFilter(**{**image_filter, "rule": ImageRule(image_filter["rule"])})
                      if image_filter else None,
                      "reviews": ReviewCounts(**reviews) if reviews else None})


@dataclass
class TrainingSet:
    """A built or opened dataset: its table (pyarrow), its manifest and where it lives."""

    folder: Path
    table: pa.Table
    manifest: DatasetManifest

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def labels(self) -> list[str]:
        """The label IRIs, in the manifest's order (the column order of `label_matrix`)."""
        return [entry.iri for entry in self.manifest.labels]

    def split(self, name: str) -> pa.Table:
        import pyarrow.compute as pc

        if name not in SPLITS:
            raise DatasetError(f"no split {name!r}; the splits are {', '.join(SPLITS)}")
        return self.table.filter(pc.equal(self.table.column("split"), name))

    def label_matrix(self, split: str | None = None) -> np.ndarray:
        """Multi-hot labels, one row per artwork (of `split`, or all), one column per label."""
        table = self.table if split is None else self.split(split)
        return multi_hot(table.column("labels").to_pylist(), self.labels)


# --- opening

def open_dataset(name_or_folder: str | os.PathLike, datasets_dir: Path | None = None) -> TrainingSet:
    """A dataset by its folder, or by name under `datasets_dir`."""
    import pyarrow.parquet as pq

    folder = Path(name_or_folder)
    if not (folder / "table.parquet").is_file() and datasets_dir is not None:
        folder = datasets_dir / str(name_or_folder)
    table_path = folder / "table.parquet"
    if not table_path.is_file() or not (folder / DatasetManifest.FILE).is_file():
        raise DatasetError(f"no dataset {str(name_or_folder)!r} (looked for {folder}/table.parquet and "
                           f"{DatasetManifest.FILE}); build one with 'heritage-kg dataset build --name NAME'")
    return TrainingSet(folder, pq.read_table(table_path), DatasetManifest.load(folder))


# --- building

@dataclass
class _Population:
    """Every labelled artwork of a dataset before any medium subset is taken: the selection and
    the split, shared by the full dataset and all its medium subsets."""

    spec: DatasetSpec
    minter: Minter
    tasks: dict[str, str]  # task IRI -> label
    labels: list[Category]
    rows: list[dict]  # table rows, sorted by artwork IRI
    source: dict
    queries: dict[str, str] = field(default_factory=dict)
    media: dict[str, str] = field(default_factory=dict)  # medium-group IRI -> label
    broader_labels: dict[str, str] = field(default_factory=dict)  # tells apart labels named alike
    image_filter: ImageFilter | None = None
    reviews: ReviewCounts | None = None


def build_dataset(store: GraphStore, spec: DatasetSpec, *, datasets_dir: Path, base_iri: str = DEFAULT_BASE_IRI,
                  images: ImageCache | None = None) -> TrainingSet:
    """Builds the dataset `spec` describes from a store whose IRIs start with `base_iri` and
    writes its folder `datasets_dir / spec.name`, replacing an older one of that name. `images`
    is the image cache a visual-mode dataset (`spec.require_image`) looks in."""
    population = _derive_population(store, spec, Minter(base_iri), images)
    return _write(population, spec.media, datasets_dir / spec.name, spec.name)


def build_medium_subsets(store: GraphStore, spec: DatasetSpec, *, datasets_dir: Path,
                         base_iri: str = DEFAULT_BASE_IRI, images: ImageCache | None = None) -> list[TrainingSet]:
    """The all-media dataset NAME and one subset NAME-<slug> per medium group, from one
    selection and split, under `datasets_dir`; a group with no labelled artwork is left out."""
    population = _derive_population(store, spec, Minter(base_iri), images)
    built = [_write(population, (), datasets_dir / spec.name, spec.name)]
    for group in sorted(population.media):
        slug = group.rstrip("/").rsplit("/", 1)[-1]
        if any(group in row["medium_groups"] for row in population.rows):
            name = f"{spec.name}-{slug}"
            built.append(_write(population, (group,), datasets_dir / name, name, split_of=spec.name))
    return built


def _derive_population(store: GraphStore, spec: DatasetSpec, minter: Minter,
                       images: ImageCache | None) -> _Population:
    queries: dict[str, str] = {}

    def run(name: str, values: dict | None = None):
        query = load_query(name)
        queries[name] = query.text
        return store.select(query.text, query.bindings(values or {}))[1]

    tasks = _resolve_tasks(run(TASKS_QUERY, {"scheme": URIRef(minter.subject_scheme(spec.collection))}), spec)
    media = {str(r["group"]): str(r["label"]) for r in run(MEDIA_QUERY)}
    _resolve_media(spec.media, media, minter)

    categories: dict[str, Category] = {}
    annotations: dict[str, set[str]] = {}  # artwork -> concepts it has (annotated or below)
    reviews = URIRef(reviews_graph(minter.base))
    verdicts: list[dict] = []
    for task, task_label in tasks.items():
        categories[task] = Category(task, task_label, task, 0)
        for row in run(CATEGORIES_QUERY, {"task": URIRef(task)}):
            iri = str(row["category"])
            categories[iri] = Category(iri, str(row["label"]), task, int(row["level"]), str(row["broader"]))
        for row in run(ANNOTATIONS_QUERY, {"task": URIRef(task), "reviews": reviews}):
            annotations.setdefault(str(row["artwork"]), set()).update(str(row["concepts"]).split())
        if spec.include_accepted:
            verdicts += run(REVIEWS_QUERY, {"task": URIRef(task), "reviews": reviews})
    review_counts, collections = _add_accepted(annotations, verdicts) if spec.include_accepted else (None, set())

    described = {}
    for name in sorted({spec.collection, *(c.rsplit("/", 1)[-1] for c in collections)}):
        described.update({str(r["artwork"]): r
                          for r in run(ARTWORKS_QUERY, {"collection": URIRef(minter.collection(name))})})
    image_filter = None
    if spec.require_image:
        annotations, image_filter = _with_image(annotations, described, images)
    counts = Counter(concept for concepts in annotations.values() for concept in concepts)
    if spec.granularity == "level1":
        selected = [c for c in tasks if counts[c] > 0]
    else:
        selected = select_categories(
            [c for c in categories.values() if c.level in (1, 2)], counts, spec.min_examples)
    if not selected:
        raise DatasetError(f"no category of {', '.join(tasks.values())} is annotated on at least "
                           f"{spec.min_examples} artworks; lower --min-examples")
    order = {task: i for i, task in enumerate(tasks)}
    labels = sorted((categories[c] for c in selected),
                    key=lambda c: (order[c.task], c.level, c.label, c.iri))

    label_iris = [c.iri for c in labels]
    rows = []
    for artwork in sorted(annotations):
        has = [iri for iri in label_iris if iri in annotations[artwork]]
        if not has:
            continue  # annotated only outside the selected categories
        description = described.get(artwork, {})
        rows.append({
            "artwork": artwork,
            "labels": has,
            "tasks": [task for task in tasks if any(categories[iri].task == task for iri in has)],
            "title": _text(description.get("title")),
            "artists": _iri_list(description.get("artists")),
            "medium_groups": _iri_list(description.get("groups")),
            "image_url": _text(description.get("thumbnail")),
            "year": year_of(description.get("year")),
            "catalogue_groups": _iri_list(description.get("catalogueGroups")),
        })
    if len(rows) < len(SPLITS):
        raise DatasetError(f"only {len(rows)} artworks carry a selected label: too few to split "
                           f"{'/'.join(SPLITS)}; choose other tasks or a lower --min-examples")
    for row, split in zip(rows, stratified_split([r["labels"] for r in rows], label_iris, spec.seed), strict=True):
        row["split"] = split

    source = _source_build(run(BUILDS_QUERY), spec.collection, minter)
    broader_labels = {c.broader: categories[c.broader].label for c in labels if c.broader in categories}
    return _Population(spec, minter, tasks, labels, rows, source, queries, media, broader_labels, image_filter,
                       review_counts)


def _add_accepted(annotations: dict[str, set[str]], verdicts: list[dict]) -> tuple[ReviewCounts, set[str]]:
    """Adds each accepted prediction's concepts to its artwork's annotations; counts what the
    accepted and the rejected ones did, and names the collections of the artworks they concern."""
    accepted = {(str(r["artwork"]), str(r["subject"])): str(r["concepts"]).split()
                for r in verdicts if str(r["verdict"]) == "accepted"}
    rejected = {(str(r["artwork"]), str(r["subject"])) for r in verdicts
                if str(r["verdict"]) == "rejected"} - set(accepted)
    added = 0
    for (artwork, subject), concepts in sorted(accepted.items()):
        labels = annotations.setdefault(artwork, set())
        added += subject not in labels
        labels.update(concepts)
    excluded = sum(subject not in annotations.get(artwork, ()) for artwork, subject in rejected)
    collections = {str(r["collection"]) for r in verdicts if "collection" in r and (
        str(r["artwork"]), str(r["subject"])) in accepted}
    return ReviewCounts(len(accepted), added, len(rejected), excluded), collections


def _with_image(annotations: dict[str, set[str]], described: dict[str, dict],
                images: ImageCache | None) -> tuple[dict[str, set[str]], ImageFilter]:
    """The annotated artworks that have an image: a decoded one in `images` once images have
    been fetched there (any of these artworks' images is), else a thumbnail URL."""
    urls = {artwork: _text(described.get(artwork, {}).get("thumbnail")) for artwork in annotations}
    fetched = images is not None and images.folder.is_dir() and any(images.folder.iterdir())
    found = {artwork: images.find(url) for artwork, url in urls.items() if url} if fetched else {}
    if any(found.values()):
        rule, kept = ImageRule.DECODED, {artwork for artwork, path in found.items() if path is not None}
    else:
        rule, kept = ImageRule.THUMBNAIL_URL, {artwork for artwork, url in urls.items() if url}
    image_filter = ImageFilter(rule, str(images.folder) if rule is ImageRule.DECODED else None,
                               kept=len(kept), left_out=len(annotations) - len(kept))
    return {artwork: concepts for artwork, concepts in annotations.items() if artwork in kept}, image_filter


def select_categories(candidates: list[Category], counts: Counter, min_examples: int) -> list[str]:
    """The selection rule of method.md section 2: the candidates annotated on at least
    `min_examples` artworks, less every one that has a selected descendant (the more specific
    of a node and its descendant is kept)."""
    by_iri = {c.iri: c for c in candidates}
    frequent = {c.iri for c in candidates if counts[c.iri] >= min_examples}
    covered = set()  # frequent nodes with a frequent node below them
    for iri in frequent:
        broader = by_iri[iri].broader
        while broader in by_iri:
            covered.add(broader)
            broader = by_iri[broader].broader
    return sorted(frequent - covered)


def stratified_split(label_sets: list[list[str]], labels: list[str], seed: int) -> list[str]:
    """The split of each example, 80/10/10, by iterative stratification (Sechidis et al. 2011)
    as the iterative-stratification package implements it. Its classes offer a two-way shuffle
    split or equal k folds; one three-way pass with shares (0.8, 0.1, 0.1) keeps label shares
    closest, so its IterativeStratification is called directly, seeded and shuffled exactly as
    MultilabelStratifiedShuffleSplit does."""
    import numpy as np
    from iterstrat.ml_stratifiers import IterativeStratification

    y = multi_hot(label_sets, labels).astype(bool)  # the algorithm indexes with boolean rows
    rng = np.random.RandomState(seed)
    order = np.arange(len(label_sets))
    rng.shuffle(order)
    folds = IterativeStratification(labels=y[order], r=np.asarray(SPLIT_SHARES), random_state=rng)
    assigned = np.empty(len(label_sets), dtype=int)
    assigned[order] = folds
    return [SPLITS[i] for i in assigned]


def _write(population: _Population, media: tuple[str, ...], folder: Path, name: str,
           split_of: str | None = None) -> TrainingSet:
    import pyarrow as pa

    spec = population.spec
    groups = _resolve_media(media, population.media, population.minter)
    rows = [r for r in population.rows if not groups or groups & set(r["medium_groups"])]
    if not rows:
        raise DatasetError(f"no labelled artwork is in the medium group(s) {', '.join(media)}")
    table = pa.Table.from_pylist(rows, schema=table_schema())

    split_sizes = Counter(r["split"] for r in rows)
    per_split = {split: Counter() for split in SPLITS}
    for row in rows:
        per_split[row["split"]].update(row["labels"])
    label_entries = []
    for category in population.labels:
        split_counts = {split: per_split[split][category.iri] for split in SPLITS}
        label_entries.append(LabelEntry(
            iri=category.iri, pref_label=category.label, task=category.task,
            task_label=population.tasks[category.task], level=category.level, broader=category.broader,
            broader_label=population.broader_labels.get(category.broader),
            counts={**split_counts, "total": sum(split_counts.values())}))

    parameters = {**spec.parameters(), "media": sorted(groups)}
    image_filter = population.image_filter  # fetching more images changes a visual dataset
    version_key = json.dumps({"format": FORMAT_VERSION, "parameters": parameters, "source": population.source,
                              "images": [image_filter.rule, image_filter.kept] if image_filter else None,
                              # new verdicts make a new dataset
                              "reviews": asdict(population.reviews) if population.reviews else None},
                             sort_keys=True)
    manifest = DatasetManifest(
        name=name,
        version=hashlib.sha256(version_key.encode()).hexdigest()[:16],
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        parameters=parameters,
        tasks=dict(population.tasks),
        media={g: population.media[g] for g in sorted(groups)},
        population=("the all-media dataset's selection and split, restricted to these medium groups"
                    if groups else "every artwork with a selected label")
        + (f", among the artworks with {population.image_filter.rule}" if population.image_filter else ""),
        queries=population.queries,
        source=population.source,
        artworks=len(rows),
        splits={split: split_sizes[split] for split in SPLITS},
        labels=label_entries,
        image_filter=population.image_filter,
        reviews=population.reviews,
        split_of=split_of,
    )
    _replace_folder(folder, table, manifest)
    return TrainingSet(folder, table, manifest)


def _replace_folder(folder: Path, table: pa.Table, manifest: DatasetManifest) -> None:
    """Writes beside the target and swaps it in, so readers never see half a dataset."""
    import pyarrow.parquet as pq

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        pq.write_table(table, staging / "table.parquet")
        manifest.save(staging)
        old = None
        if folder.exists():
            old = folder.parent / f".{folder.name}.old-{os.getpid()}"
            os.replace(folder, old)
        os.replace(staging, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# --- resolving names

def _resolve_tasks(rows: list[dict], spec: DatasetSpec) -> dict[str, str]:
    """Task IRI -> label, in the order the spec names them."""
    known = {str(r["task"]): str(r["label"]) for r in rows}
    by_label = {label.casefold(): iri for iri, label in known.items()}
    tasks = {}
    for task in spec.tasks:
        iri = task if task in known else by_label.get(task.casefold())
        if iri is None:
            raise DatasetError(f"no top-level subject {task!r} in the {spec.collection} collection; known: "
                               f"{', '.join(sorted(known.values())) or 'none (is the store built?)'}")
        tasks[iri] = known[iri]
    return tasks


def _resolve_media(media: tuple[str, ...], known: dict[str, str], minter: Minter) -> set[str]:
    """Medium-group IRIs for names given by slug, label or IRI."""
    by_name = {label.casefold(): iri for iri, label in known.items()}
    resolved = set()
    for name in media:
        iri = name if name in known else minter.medium_group(name) if minter.medium_group(name) in known \
            else by_name.get(name.casefold())
        if iri is None:
            slugs = sorted(i.rsplit("/", 1)[-1] for i in known)
            raise DatasetError(f"no medium group {name!r}; known: {', '.join(slugs)} (or '{ALL_MEDIA}' for each)")
        resolved.add(iri)
    return resolved


def _source_build(rows: list[dict], collection: str, minter: Minter) -> dict:
    """The latest build of the collection's graph (the builds query lists the newest first)."""
    builds = [r for r in rows if str(r["collection"]) == collection]
    if not builds:
        raise DatasetError(f"the store holds no build of the {collection} collection; build it with "
                           f"'heritage-kg build-graph --collection {collection} --source PATH'")
    latest = builds[0]
    return {"graph": minter.graph(collection), "build": str(latest["build"]), "started": str(latest["started"]),
            "source": str(latest["source"]), "checksum": str(latest["checksum"])}


# --- small conversions

def _text(term) -> str | None:
    return None if term is None else str(term)


def _iri_list(term) -> list[str]:
    return sorted(str(term).split()) if term is not None else []


def multi_hot(label_sets: list[list[str]], labels: list[str]) -> np.ndarray:
    """One row per label set, one int8 column per label (in the order of `labels`)."""
    import numpy as np
    from sklearn.preprocessing import MultiLabelBinarizer

    if not label_sets:
        return np.zeros((0, len(labels)), dtype=np.int8)
    return MultiLabelBinarizer(classes=labels).fit_transform(label_sets).astype(np.int8)


__all__ = ["DEFAULT_TASKS", "GRANULARITIES", "SPLITS", "Category", "DatasetManifest", "DatasetSpec", "ImageFilter",
           "ImageRule", "LabelEntry", "ReviewCounts", "TrainingSet", "build_dataset", "build_medium_subsets", "multi_hot",
           "open_dataset", "select_categories", "stratified_split", "table_schema"]
