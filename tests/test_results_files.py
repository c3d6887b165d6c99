"""Results files may be plain `.json` or gzip `.json.gz` wherever one is accepted."""

from __future__ import annotations

import gzip
import json

import pytest
from report_records import full_run

from tf2bench.cli import main
from tf2bench.errors import RecordError
from tf2bench.records.files import read_results_text, write_results
from tf2bench.records.schema import load_results


def test_written_gz_is_gzip_and_reads_back_the_same_document(tmp_path):
    document = full_run(rounds=5)
    path = write_results(tmp_path / "run.json.gz", document)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert json.loads(gzip.decompress(path.read_bytes())) == document
    assert json.loads(read_results_text(path)) == document
    # Plain names stay plain JSON.
    plain = write_results(tmp_path / "run.json", document)
    assert json.loads(plain.read_text()) == document


def test_a_damaged_gz_is_a_one_line_record_error(tmp_path):
    path = tmp_path / "bad.json.gz"
    path.write_bytes(gzip.compress(b'{"benchmarks": []}')[:-8])
    with pytest.raises(RecordError, match="truncated or damaged gzip"):
        load_results(path)


@pytest.mark.slow
def test_compressed_and_plain_results_give_identical_reports(tmp_path, capsys):
    document = full_run(rounds=8)
    plain = write_results(tmp_path / "run.json", document)
    packed = write_results(tmp_path / "run.json.gz", document)
    for source, out in ((plain, "report-plain"), (packed, "report-gz")):
        assert main(["report", str(source), "--out", str(tmp_path / out)]) == 0
    capsys.readouterr()
    for name in ("report.md", "report.html"):
        a = (tmp_path / "report-plain" / name).read_text()
        b = (tmp_path / "report-gz" / name).read_text()
        # The inputs table names the file; everything else must match.
        assert a.replace(str(plain), "FILE") == b.replace(str(packed), "FILE")


@pytest.mark.slow
def test_compare_accepts_gz(tmp_path, capsys):
    document = full_run(rounds=8)
    packed = write_results(tmp_path / "run.json.gz", document)
    plain = write_results(tmp_path / "run.json", document)
    assert main(["compare", str(plain), str(packed)]) == 0
    assert main(["compare", str(tmp_path / "absent.json.gz"), str(packed)]) == 2
