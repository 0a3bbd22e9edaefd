"""`heritage-kg fetch-images`: each dataset row's image into the local image cache."""

from __future__ import annotations

import typer

from heritage_kg.cli import app
from heritage_kg.cli.common import console, progress_bars, reports_errors, settings
from heritage_kg.cli.embed import dataset_columns


@app.command("fetch-images")
@reports_errors
def fetch_images_command(
    dataset: str = typer.Option(..., "--dataset", help="A dataset name (under the datasets folder) or its folder."),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="Downloads at once."),
    per_host_rate: float = typer.Option(4.0, "--per-host-rate", min=0, help="Requests per second to one host (0: no limit)."),
    timeout: float = typer.Option(30.0, "--timeout", min=0.1, help="Seconds for one whole attempt."),
    retries: int = typer.Option(3, "--retries", min=0, help="Further attempts after a timeout, a lost connection or a 5xx."),
    max_bytes: int = typer.Option(10_000_000, "--max-bytes", min=1, help="Largest image accepted, in bytes."),
):
    """Download a dataset's images once into the image cache.

    Resumable (cached images are skipped); every image is fully decoded; a report of what
    failed and why is written beside the cache."""
    from heritage_kg.learning.images import FetchPolicy, ImageCache, fetch_images

    name, (artworks, urls) = dataset_columns(dataset, "artwork", "image_url")
    cache = ImageCache(settings().images_dir)
    policy = FetchPolicy(concurrency=concurrency, per_host_rate=per_host_rate, timeout=timeout, retries=retries,
                         max_bytes=max_bytes)
    with progress_bars() as progress:
        report = fetch_images(list(zip(artworks, urls)), cache, policy, progress=progress)
    tsv, summary = report.write(cache.folder / "reports" / f"fetch-{name}.tsv")
    console.print(f"{len(report.outcomes):,} artworks in {report.seconds:.1f} s: {report.count('downloaded'):,} "
                  f"downloaded, {report.count('cached'):,} already cached, {report.count('failed'):,} failed, "
                  f"{report.count('no-url'):,} without an image URL; images in {cache.folder}", highlight=False)
    if report.failures:
        console.print("[yellow]failures by kind[/]: " + ", ".join(
            f"{kind}: {count}" for kind, count in report.failure_kinds().most_common()), highlight=False)
        for outcome in report.failures[:10]:
            console.print(f"  {outcome.artwork}  {outcome.url}: {outcome.reason}", highlight=False)
        if len(report.failures) > 10:
            console.print(f"  ... and {len(report.failures) - 10} more", highlight=False)
    console.print(f"report: {tsv} (every row), {summary} (summary)", highlight=False)
