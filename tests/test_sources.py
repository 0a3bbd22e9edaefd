"""Reading collections: folders, zips and URLs; every field optional; bad records skipped and
reported, never fatal."""

from __future__ import annotations

import http.server
import threading
import zipfile
from pathlib import Path

import pytest

from heritage_kg.errors import OfflineDownloadError, SourceError
from heritage_kg.sources import read_collection
from heritage_kg.sources.archive import download

from conftest import CMOA_FIXTURE, CMOA_ZIP, TATE_FIXTURE, TATE_ZIP, require_real_data


def zip_folder(folder: Path, target: Path) -> Path:
    """A zip in the layout of GitHub's "Download ZIP": everything under one top folder."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, path.relative_to(folder).as_posix())
    return target


def test_tate_fixture_reads_artworks_artists_and_taxonomy():
    extract = read_collection("tate", str(TATE_FIXTURE))
    assert sorted(a.id for a in extract.artworks) == ["D00001", "N00530", "P00003", "T00002", "T00004", "T00005"]
    # three artist files read, one (John Cousen) known only from an artwork's contributor record
    assert sorted(extract.artists) == ["2000", "3000", "3001", "558"]
    assert extract.artists["2000"].name == "John Cousen"
    turner = extract.artists["558"]
    assert (turner.birth_year, turner.death_year, turner.birth_place.name) == (1775, 1851, "London, United Kingdom")
    assert [m.name for m in turner.movements] == ["Romanticism"]


def test_tate_bad_records_are_skipped_with_their_reasons():
    extract = read_collection("tate", str(TATE_FIXTURE))
    reasons = {s.path: s.reason for s in extract.skipped}
    assert reasons.keys() == {
        "artists/x/broken-artist.json",
        "artworks/n/005/n00530-1999.json",
        "artworks/t/000/t00006-1006.json",
        "artworks/t/000/t00007-1007.json",
        "artworks/t/000/t00008-1008.json",
    }
    assert reasons["artworks/n/005/n00530-1999.json"] == "duplicate accession number N00530"
    assert reasons["artworks/t/000/t00006-1006.json"].startswith("malformed JSON")
    assert "without an accession number" in reasons["artworks/t/000/t00007-1007.json"]
    assert reasons["artworks/t/000/t00008-1008.json"] == "expected a JSON object, found list"
    # the first record with a duplicated accession number is the one kept
    kept = next(a for a in read_collection("tate", str(TATE_FIXTURE)).artworks if a.id == "N00530")
    assert kept.record_id == "1000"


def test_subjects_are_the_most_specific_concepts_and_unknown_concepts_are_added():
    extract = read_collection("tate", str(TATE_FIXTURE))
    by_id = {a.id: a for a in extract.artworks}
    assert by_id["N00530"].subject_ids == ["218", "223", "195"]
    # a level-1 node with no children in the record is itself the most specific subject
    assert by_id["T00004"].subject_ids == ["95"]
    # "pilgrim" is not in the taxonomy files: it comes from the artwork record, under "adults"
    pilgrim = extract.concepts["9999"]
    assert (pilgrim.name, pilgrim.level, pilgrim.parent_id) == ("pilgrim", 2, "95")
    assert extract.concepts["61"].parent_id == "60" and extract.concepts["218"].parent_id == "61"


def test_missing_fields_stay_missing():
    by_id = {a.id: a for a in read_collection("tate", str(TATE_FIXTURE)).artworks}
    untitled = by_id["P00003"]
    assert untitled.thumbnail_url is None and untitled.width_mm is None and untitled.subject_ids == []
    assert by_id["T00005"].medium is None and by_id["T00005"].contributions == []
    assert by_id["T00002"].start_year is None and by_id["T00002"].acquisition_year is None
    assert [(c.artist_id, c.role) for c in by_id["T00002"].contributions] == [("2000", "engraver"), ("558", "after")]


def test_zip_and_folder_give_the_same_records(tmp_path):
    archive = zip_folder(TATE_FIXTURE, tmp_path / "collection-master.zip")
    from_zip = read_collection("tate", str(archive))
    from_folder = read_collection("tate", str(TATE_FIXTURE))
    assert from_zip.artworks == from_folder.artworks
    assert from_zip.skipped == from_folder.skipped
    assert from_zip.checksum != from_folder.checksum and from_zip.checksum.startswith("sha256:")


def test_a_clone_folder_can_be_given_directly_or_one_level_up():
    inner = read_collection("tate", str(TATE_FIXTURE / "collection-master"))
    outer = read_collection("tate", str(TATE_FIXTURE))
    assert inner.artworks == outer.artworks


def test_sources_that_are_not_a_collection_are_clear_errors(tmp_path):
    with pytest.raises(SourceError, match="source not found"):
        read_collection("tate", str(tmp_path / "nowhere.zip"))
    (tmp_path / "notes.txt").write_text("not a zip")
    with pytest.raises(SourceError, match="neither a folder nor a zip"):
        read_collection("tate", str(tmp_path / "notes.txt"))
    with pytest.raises(SourceError, match="no 'artworks/' folder"):
        read_collection("tate", str(CMOA_FIXTURE))
    with pytest.raises(SourceError, match="unknown collection"):
        read_collection("louvre", str(TATE_FIXTURE))


def test_cmoa_fixture_maps_inches_to_millimetres_and_reports_bad_records():
    extract = read_collection("cmoa", str(CMOA_FIXTURE))
    by_id = {a.id: a for a in extract.artworks}
    assert sorted(by_id) == ["2001.45.3", "2013.29.1A-B", "99.4"]
    place = by_id["99.4"]
    assert (place.width_mm, place.height_mm, place.depth_mm) == (508.0, 762.0, None)
    assert place.start_year == 1896 and place.acquisition_year == 1899
    assert by_id["2001.45.3"].thumbnail_url is None
    assert extract.artists["11111111-1111-4111-8111-111111111111"].name == "Camille Pissarro"
    assert sorted(s.reason.split(":")[0] for s in extract.skipped) == [
        "duplicate accession number 99.4", "malformed JSON", "object record without an accession_number"]


class _ArchiveHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture
def archive_server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    zip_folder(TATE_FIXTURE, served / "master.zip")
    _ArchiveHandler.requests = []
    handler = lambda *a, **k: _ArchiveHandler(*a, directory=str(served), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_url_is_downloaded_once_into_the_cache(archive_server, tmp_path):
    url = f"{archive_server}/master.zip"
    first = read_collection("tate", url)
    second = read_collection("tate", url)
    assert len(first.artworks) == len(second.artworks) == 6
    assert _ArchiveHandler.requests == ["/master.zip"]


def test_a_failed_download_leaves_no_partial_file_and_says_where_to_put_the_archive(archive_server, tmp_path):
    with pytest.raises(SourceError, match="HTTP 404"):
        download(f"{archive_server}/missing.zip", tmp_path / "cache")
    assert list((tmp_path / "cache").glob("*")) == []
    closed = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens on this port now: the same as being offline
    with pytest.raises(OfflineDownloadError) as error:
        download(f"http://127.0.0.1:{port}/collection.zip", tmp_path / "cache", timeout=2)
    message = str(error.value)
    assert "--source" in message and str(tmp_path / "cache") in message and "collection.zip" in message


@pytest.mark.realdata
def test_real_tate_archive():
    require_real_data(TATE_ZIP)
    extract = read_collection("tate", str(TATE_ZIP))
    assert len(extract.artworks) == 69202
    assert len(extract.concepts) == 16641
    # four artist ids occur in two files each in the 2014 snapshot; nothing else is malformed
    assert sorted(s.reason for s in extract.skipped) == [
        "duplicate artist id 1138", "duplicate artist id 1338", "duplicate artist id 5677", "duplicate artist id 9260"]
    blake = next(a for a in extract.artworks if a.id == "A00001")
    assert blake.title.startswith("A Figure Bowing before a Seated Old Man")
    assert [extract.artists[c.artist_id].name for c in blake.contributions] == ["Robert Blake"]
    assert [extract.concepts[s].name for s in blake.subject_ids] == [
        "arm/arms raised", "kneeling", "sitting", "man", "man, old", "blessing"]


@pytest.mark.realdata
def test_real_cmoa_archive():
    require_real_data(CMOA_ZIP)
    extract = read_collection("cmoa", str(CMOA_ZIP))
    assert len(extract.artworks) == 28258 and extract.skipped == []
    assert len(extract.artists) == 5962
