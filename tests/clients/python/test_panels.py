"""Dyad-year and country-year panels out, read back with pandas as an
analyst would, after importing COW alliances into a data dir."""

import pathlib
import shutil
import subprocess

import pandas

from conftest import ROOT, Server, _binary

FIXTURE = ROOT / "tests" / "fixtures" / "cow-alliance" / "alliance-fixture.csv"


def run(*args):
    done = subprocess.run([str(_binary()), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


def seeded_data_dir():
    """A data dir a server seeded, then left (SIGTERM) for the tools."""
    server = Server()
    server.process.terminate()
    assert server.process.wait(timeout=20) == 0
    return server.data_dir


def test_dyad_years_load_with_pandas_and_keep_obligations_by_direction(tmp_path):
    data_dir = seeded_data_dir()
    try:
        run("import", "--format", "cow-alliance", "--data-dir", data_dir, FIXTURE)
        out = tmp_path / "dyads.csv"
        run("export", "--data-dir", data_dir, "--format", "dyad-year-csv", "--from", 1990, "--to", 2016,
            "--countries", "AM,AZ,TR,US,DD,DE,NA", "--directed", "--output", out)
        # keep_default_na=False: Namibia's code is NA.
        frame = pandas.read_csv(out, keep_default_na=False)
        assert list(frame.columns)[:6] == ["year", "valued_on", "country1", "country2", "ccode1", "ccode2"]
        assert not frame.duplicated(["year", "country1", "country2"]).any(), "one row per directed dyad-year"
        assert "NA" in set(frame.country1), "Namibia is a country, not a missing value"
        gdr = frame[(frame.year == 1990) & (frame.country1 == "DD") & (frame.country2 == "DE")].iloc[0]
        assert gdr.valued_on == "1990-10-02", "valued on the GDR's last day"
        assert not ((frame.year == 1991) & (frame.country1 == "DD")).any(), "no GDR after 1990"
        tr_az = frame[(frame.year == 2012) & (frame.country1 == "TR") & (frame.country2 == "AZ")].iloc[0]
        az_tr = frame[(frame.year == 2012) & (frame.country1 == "AZ") & (frame.country2 == "TR")].iloc[0]
        assert (tr_az.defense, tr_az.nonaggression, tr_az.entente) == (1, 1, 1), "Turkey's pledges (fixture 9003)"
        assert (az_tr.defense, az_tr.entente) == (0, 1), "Azerbaijan's: consultation only"
        assert az_tr.status == "ESTABLISHED" and az_tr.recognition_2_of_1 == "RECOGNIZED"
        us_tr = frame[(frame.year == 2000) & (frame.country1 == "US") & (frame.country2 == "TR")].iloc[0]
        assert us_tr.allied == 1 and us_tr.defense == 1
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def test_country_years_count_each_state_once_a_year(tmp_path):
    data_dir = seeded_data_dir()
    try:
        out = tmp_path / "countries.csv"
        run("export", "--data-dir", data_dir, "--format", "country-year-csv", "--from", 1991, "--to", 1993,
            "--countries", "AM,AZ,TR,RU", "--output", out)
        frame = pandas.read_csv(out, keep_default_na=False)
        assert not frame.duplicated(["year", "country"]).any()
        am_1992 = frame[(frame.year == 1992) & (frame.country == "AM")].iloc[0]
        assert am_1992.states == 3, "Azerbaijan, Türkiye and Russia existed with Armenia in 1992"
        assert am_1992.at_war_with == 1, "the First Nagorno-Karabakh War"
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
