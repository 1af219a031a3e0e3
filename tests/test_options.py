"""The option table (`jobs.options`) against what is derived from it: the parser, the job, the
batch file and `with_options`. The cases are generated from the rows, so a new row is tested
without a new test; a few real command lines are written out by hand."""

import json
import pickle
import re
import tomllib
from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli import build_parser, main
from jobs.batch import BatchError, load_jobs
from jobs.marker import MarkerJob
from jobs.options import BATCH_KEYS, JOB_OPTIONS, KINDS, OPTIONS, describe, parsed_arguments, with_options
from jobs.spec import MarkerSpec
from nesting.errors import SpecError
from nesting.fabric import Margins
from nesting.orientation import OrientationRule
from patterns.sizes import Sizes

MARKER = [option for option in OPTIONS if "marker" in option.commands]
SWITCHES = ("flag", "bool")
# A value of the wrong kind for each kind of row, as typed on the command line
BAD = {"number": "x", "integer": "2.5", "sizes": "S=0", "list": "gif", "choice": "bogus", "text": " ", "path": None}


def _argv(option, value=None) -> list[str]:
    """``nest marker`` with this option set to ``value`` (its example by default); --out is always given."""
    value = option.example if value is None else value
    given = [value] if option.flag == "INPUT" else ([option.option] if option.kind in SWITCHES
                                                   else [option.option, value])
    return ["marker", *given, *([] if option.name == "out" else ["--out", "o"])]


def _toml_value(option):
    """The row's example as a TOML file would write it."""
    text = option.example
    if option.kind in SWITCHES:
        return True
    if option.kind == "number":
        return float(text)
    if option.kind == "integer":
        return int(text)
    if option.kind == "list":
        return text.split(",")
    return text


def test_the_table_is_well_formed():
    names = [option.name for option in OPTIONS]
    assert len(names) == len(set(names)) and len({o.option for o in OPTIONS}) == len(OPTIONS)
    for option in OPTIONS:
        assert option.help and option.kind in KINDS and option.kind in BAD.keys() | set(SWITCHES), option.name
        assert option.example or option.kind in SWITCHES, f"{option.name}: needs an example"
        if option.default is not None:  # a default reads as itself: the job holds parsed values
            assert option.parse(option.default, option.option) == option.default, option.name


def test_the_job_record_has_one_field_per_job_row_and_round_trips():
    assert [f.name for f in fields(MarkerJob)] == [option.name for option in JOB_OPTIONS]
    assert MarkerJob.option_names() == tuple(option.name for option in JOB_OPTIONS)
    job = MarkerJob(out="o", sizes="S,M=2", shrinkage="2,1", rotations=" FREE:15 ", seed="3")
    assert (job.sizes, job.shrinkage, job.rotations, job.seed) == (Sizes((("S", 1), ("M", 2))), (2.0, 1.0), "free:15", 3)
    assert pickle.loads(pickle.dumps(job)) == job  # batch workers receive jobs pickled
    with pytest.raises(TypeError):
        MarkerJob()  # --out is required
    with pytest.raises(SpecError, match=r"^--tilt: "):
        MarkerJob(out="o", tilt=90)


@pytest.mark.parametrize("option", MARKER, ids=lambda o: o.name)
def test_every_marker_row_is_reachable_from_the_command_line(option):
    values = parsed_arguments(build_parser().parse_args(_argv(option)), "marker")
    expected = True if option.kind in SWITCHES else option.parse(option.example, option.option)
    assert values[option.name] == expected
    others = {o.name: values[o.name] for o in MARKER if o.name not in (option.name, "out")}
    assert others == {o.name: o.default for o in MARKER if o.name not in (option.name, "out")}


@pytest.mark.parametrize("option", [o for o in MARKER if o.kind not in SWITCHES and BAD[o.kind]], ids=lambda o: o.name)
def test_a_bad_value_is_one_line_naming_the_option(option, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [a if a != "o" else str(out) for a in _argv(option, BAD[option.kind])]
    if option.name == "out":
        pytest.skip("--out ' ' is a folder name")
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {option.option}: "), err
    assert not out.exists()


@pytest.mark.parametrize("option", [o for o in JOB_OPTIONS if not o.batch], ids=lambda o: o.name)
def test_every_batch_key_is_read_by_its_row(option, tmp_path):
    assert option.name in BATCH_KEYS
    table = {"name": "a", "input": "x.json", option.name: _toml_value(option)}
    path = tmp_path / "jobs.toml"
    path.write_text("[[job]]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in table.items()))
    assert tomllib.loads(path.read_text())["job"][0][option.name] == _toml_value(option)
    (batch_job,) = load_jobs(path, tmp_path / "out")
    value = getattr(batch_job.job, option.name)
    if option.kind == "path":
        assert value == str((tmp_path / option.example).resolve())  # relative to the jobs file
    elif option.name == "formats":
        assert value == ("svg", "json")  # marker.json last: a resumed batch trusts it
    else:
        assert value == (True if option.kind in SWITCHES else option.parse(option.example, option.name))
    json.dumps(batch_job.fingerprint())  # job.json: plain JSON data


@pytest.mark.parametrize("option", [o for o in JOB_OPTIONS if not o.batch and o.kind in BAD and BAD[o.kind]],
                         ids=lambda o: o.name)
def test_a_bad_batch_value_names_the_job_and_the_key(option, tmp_path):
    path = tmp_path / "jobs.toml"
    path.write_text(f'[[job]]\nname = "a"\ninput = "x.json"\n{option.name} = {json.dumps(BAD[option.kind])}\n')
    with pytest.raises(BatchError) as raised:
        load_jobs(path, tmp_path / "out")
    assert str(raised.value).startswith(f"{path}: job 'a': {option.name}: ")


@pytest.mark.parametrize("option", [o for o in JOB_OPTIONS if o.batch], ids=lambda o: o.name)
def test_options_a_batch_may_not_set_say_why(option, tmp_path):
    path = tmp_path / "jobs.toml"
    path.write_text(f'[[job]]\nname = "a"\ninput = "x.json"\n{option.name} = {json.dumps(_toml_value(option))}\n')
    with pytest.raises(BatchError, match=re.escape(f"option '{option.name}' cannot be set in a batch: {option.batch}")):
        load_jobs(path, tmp_path / "out")


def test_command_line_options_are_not_batch_keys(tmp_path):
    path = tmp_path / "jobs.toml"
    path.write_text('[[job]]\nname = "a"\ninput = "x.json"\nquiet = true\n')
    with pytest.raises(BatchError, match="unknown option 'quiet'"):
        load_jobs(path, tmp_path / "out")


@pytest.mark.parametrize("option", [o for o in JOB_OPTIONS if o.spec], ids=lambda o: o.name)
def test_every_spec_row_overrides_its_field(option):
    value = True if option.kind in SWITCHES else option.example
    spec = with_options(MarkerSpec(), **{option.name: value})
    target, _, part = option.spec.partition(".")
    if part:
        assert getattr(spec.orientation.default, part) == option.parse(value, option.option)
        assert getattr(MarkerSpec().orientation.default, part) is None
    else:
        assert getattr(spec, target) == option.to_spec(option.parse(value, option.option))
        assert getattr(spec, target) != getattr(MarkerSpec(), target)


def test_real_command_lines():
    parse = build_parser().parse_args
    values = parsed_arguments(parse(["marker", "tee.dxf", "--width", "1500", "--sizes", "S,M=2", "--no-flip",
                                     "--limit", "pieces=3000", "--limit", "workers=4", "--formats", "json,PNG",
                                     "--out", "o"]), "marker")
    assert values["input"] == "tee.dxf" and values["width"] == 1500.0 and values["flip"] is False
    assert values["sizes"] == Sizes((("S", 1), ("M", 2))) and values["formats"] == ("json", "png")
    assert values["limits"] == ("pieces=3000", "workers=4") and values["quiet"] is False
    job = MarkerJob(**{name: values[name] for name in MarkerJob.option_names()})
    spec = with_options(MarkerSpec(), **{o.name: getattr(job, o.name) for o in JOB_OPTIONS})
    assert spec.patterns == ("tee.dxf",) and spec.orientation.default == OrientationRule(None, None, False)
    margin = with_options(MarkerSpec(), margin="3", spacing=2)
    assert margin.margins == Margins(3, 3, 3, 3) and margin.spacing == 2.0
    plan = parsed_arguments(parse(["plan", "order.toml", "--seed", "4", "--scheduler", "local", "--out", "o"]), "plan")
    assert (plan["seed"], plan["scheduler"], plan["quiet"]) == (4, "local", False)
    assert parsed_arguments(parse(["batch", "jobs.toml", "--out", "o"]), "batch") == {"scheduler": None}


def test_describe_lists_the_form_of_every_option():
    rows = json.loads(json.dumps(describe("marker")))
    assert [row["name"] for row in rows] == [o.name for o in MARKER]
    strategy = next(row for row in rows if row["name"] == "strategy")
    assert strategy["kind"] == "choice" and "blf" in strategy["choices"] and strategy["default"] == "auto"
    assert next(row for row in rows if row["name"] == "formats")["default"] == ["json", "png", "dxf", "plt"]


SIZE = st.text("SMLX0123456789", min_size=1, max_size=4)


@given(st.lists(st.tuples(SIZE, st.integers(1, 10**6)), min_size=1, max_size=6, unique_by=lambda p: p[0]))
def test_sizes_text_reads_back(pairs):
    sizes = Sizes(tuple(pairs))
    assert Sizes.parse(str(sizes)) == sizes == Sizes.of(dict(pairs)) == Sizes.of(str(sizes))


@given(st.lists(SIZE, min_size=1, max_size=6, unique=True), st.data())
def test_sizes_resolve_to_the_file_names_ignoring_case(available, data):
    asked = data.draw(st.lists(st.sampled_from(available), min_size=1, max_size=4))
    resolved = Sizes.of_pairs((size.lower(), 1) for size in asked).resolve(available)
    expected = {}
    for size in asked:  # an obvious oracle: count each asked size under the file's own name
        expected[size] = expected.get(size, 0) + 1
    assert resolved.as_dict() == expected
    assert Sizes.parse("all").resolve(available).as_dict() == dict.fromkeys(available, 1)
