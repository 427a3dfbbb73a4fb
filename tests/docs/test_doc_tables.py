"""The README and docs show only figures their stored records hold, and stay readable.

Every table between ``<!-- record: ... -->`` markers is re-rendered from its JSON record
(``tools/misc/render_doc_tables.py``) and must equal what the file holds, so a table cannot
drift from the measurement; outside those tables no measured figure may appear. The README
stays one page, and no page points at this project's issue numbers.
"""
import glob
import importlib.util
import json
import os.path as osp
import re
import shutil

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    'render_doc_tables', osp.join(REPO, 'tools', 'misc', 'render_doc_tables.py'))
render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render)

DOCS = render.default_files()
RECORDS = sorted(osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'docs', 'records',
                                                                    '*.json')))


def read(rel):
    with open(osp.join(REPO, rel)) as f:
        return f.read()


def test_rendered_files_include_readme_docs_and_configs():
    assert {'README.md', 'docs/benchmarks.md', 'configs/yolox-kpt/README.md'} <= set(DOCS)


@pytest.mark.parametrize('doc', DOCS)
def test_tables_match_their_records(doc):
    text = read(doc)
    assert render.render_text(text, doc) == text, (
        f'{doc}: a table differs from its record; run python tools/misc/render_doc_tables.py')


def test_every_record_has_a_source_and_is_shown():
    from yolox_kpt.utils.records import read_record
    assert RECORDS, 'docs/records/ holds no record'
    shown = {m['path'] for doc in DOCS for m in map(render.START.match, read(doc).split('\n'))
             if m}
    for rel in RECORDS:
        source = read_record(osp.join(REPO, rel))['source']
        assert source['command'].startswith('python tools/'), (rel, source['command'])
        assert re.match(r'\d{4}-\d\d-\d\dT', source['date']), (rel, source['date'])
        assert source['machine']['cores'] >= 1 and source['machine']['packages']
        assert rel in shown, f'{rel} is stored but no page shows it'
    assert shown <= set(RECORDS), f'markers name records that are not stored: {shown}'


def _fake_repo(tmp_path, record_name='flops.json'):
    (tmp_path / 'docs' / 'records').mkdir(parents=True)
    shutil.copy(osp.join(REPO, 'docs', 'records', record_name),
                tmp_path / 'docs' / 'records' / record_name)
    return tmp_path / 'docs' / 'records' / record_name


def test_a_changed_record_changes_its_table(tmp_path):
    """The check can fail: the same marker over an edited record renders another table,
    holding the edited figure, so a doc left as it was would be reported."""
    path = _fake_repo(tmp_path)
    doc = '# t\n\n<!-- record: docs/records/flops.json view=configs -->\n<!-- /record -->\n'
    before = render.render_text(doc, 'docs/t.md', repo=str(tmp_path))
    record = json.loads(path.read_text())
    first = record['models'][0]
    assert f"{first['params'] / 1e6:.2f}" in before
    first['params'] = 123_456_789
    path.write_text(json.dumps(record))
    after = render.render_text(before, 'docs/t.md', repo=str(tmp_path))
    assert after != before and '| 123.46 |' in after
    # rendering is stable: a rendered file renders to itself
    assert render.render_text(after, 'docs/t.md', repo=str(tmp_path)) == after
    # the source line links the record relative to the page and names the command
    assert '](records/flops.json)' in after and record['source']['command'] in after


def test_metrics_view_and_writer_round_trip(tmp_path):
    """A record written by the shared writer renders; a record without source is refused."""
    from yolox_kpt.utils.records import write_record
    out = write_record(str(tmp_path / 'docs' / 'records' / 'demo.json'),
                       dict(config='c.py', minutes=14.25, metrics={
                           'bbox_mAP': 0.5151, 'kpt_AP': 0.25, 'bbox_AP_car': 0.6,
                           'kpt_AP_car': 0.4251}),
                       command=['tools/demo_synthetic.py', '--epochs', '2'])
    source = json.loads(open(out).read())['source']
    assert source['command'] == 'python tools/demo_synthetic.py --epochs 2'
    assert source['machine']['cores'] and len(source['load_avg']) == 3
    doc = '<!-- record: docs/records/demo.json view=metrics -->\n<!-- /record -->'
    text = render.render_text(doc, 'README.md', repo=str(tmp_path))
    assert '| all | 0.515 |' in text and '| car | 0.600 |' in text and '0.425' in text
    assert '14.2 min' in text and '](docs/records/demo.json)' in text
    with pytest.raises(ValueError, match='source'):
        write_record(str(tmp_path / 'x.json'), dict(source='mine'))
    # the demo's record: ONNX Runtime's AP beside PyTorch's, minutes per step, the floor
    write_record(out, dict(config='c.py', minutes=6.5, metrics={
        'bbox_mAP': 0.76, 'kpt_AP': 0.7, 'bbox_AP_car': 0.6, 'kpt_AP_car': 0.4},
        onnx_metrics={'bbox_mAP': 0.759, 'kpt_AP': 0.701, 'bbox_AP_car': 0.61,
                      'kpt_AP_car': 0.39}, step_minutes={'train': 5.0, 'test': 0.5},
        floor=dict(bbox_mAP=0.75, kpt_AP=0.5), floor_reached=False))
    text = render.render_text(doc, 'README.md', repo=str(tmp_path))
    assert '| car | 0.600 |  | 0.400 |  | 0.610 | 0.390 |' in text
    assert '6.5 min in all (train 5.0, test 0.5)' in text and '**missed**' in text
    (tmp_path / 'docs' / 'records' / 'bare.json').write_text('{"metrics": {}}')
    with pytest.raises(render.RenderError, match=r'x\.md:1: .*bare\.json.*lacks command'):
        render.render_text('<!-- record: docs/records/bare.json view=metrics -->\n'
                           '<!-- /record -->', 'x.md', repo=str(tmp_path))


@pytest.mark.parametrize('doc, message', [
    ('a\n<!-- record: docs/records/flops.json view=nope -->\n<!-- /record -->',
     r'x\.md:2: view=nope is not one of'),
    ('<!-- record: docs/records/missing.json view=configs -->\n<!-- /record -->',
     r'x\.md:1: no record docs/records/missing\.json'),
    ('<!-- record: docs/records/flops.json view=configs -->\ntable', r'x\.md:1: .* not closed'),
    ('text\n<!-- /record -->', r'x\.md:2: .* without an opening marker'),
    ('<!-- record: docs/records/flops.json view=eval_speed -->\n<!-- /record -->',
     r'x\.md:1: cannot render docs/records/flops\.json as view=eval_speed'),
])
def test_marker_errors_name_file_and_line(tmp_path, doc, message):
    _fake_repo(tmp_path)
    with pytest.raises(render.RenderError, match=message):
        render.render_text(doc, 'x.md', repo=str(tmp_path))


def test_check_mode_reports_a_stale_table(tmp_path, capsys, monkeypatch):
    _fake_repo(tmp_path)
    (tmp_path / 'README.md').write_text(
        '<!-- record: docs/records/flops.json view=configs -->\nold\n<!-- /record -->\n')
    monkeypatch.setattr(render, 'REPO', str(tmp_path))
    with pytest.raises(SystemExit) as exit_info:
        render.main(['--check'])
    assert exit_info.value.code == 1 and 'out of date: README.md' in capsys.readouterr().out
    assert 'old' in (tmp_path / 'README.md').read_text()    # --check writes nothing
    render.main([])                                         # rewrites it ...
    render.main(['--check'])                                # ... and then it is current
    assert 'every table matches' in capsys.readouterr().out
    assert 'old' not in (tmp_path / 'README.md').read_text()


# ------------------------------------------------------------------- one page, no issues
def test_readme_is_one_page():
    lines = read('README.md').split('\n')
    assert len(lines) <= 300, f'README.md has {len(lines)} lines; details go to docs/'


UPSTREAM = {'mmengine', 'mmdet', 'mmdetection', 'mmcv', 'mmdeploy', 'mmpose', 'mmyolo',
            'torch', 'pytorch', 'onnx', 'onnxruntime', 'onnx-tensorrt', 'tensorrt',
            'ultralytics', 'pycocotools', 'faster-coco-eval'}
ISSUE_REF = re.compile(r'(?<![\w&/])#\d+\b|\b(?:issues?|pr|pull request|bug)\s+#?\d+\b', re.I)


def issue_references(text):
    """References to issue numbers that are not preceded by an upstream project's name
    ("mmengine issue 1655" names whose issue it is; "issue 4" or "#12" does not)."""
    found = []
    for m in ISSUE_REF.finditer(text):
        before = re.findall(r'[\w.-]+', text[max(0, m.start() - 40):m.start()])
        if not (before and before[-1].lower() in UPSTREAM):
            found.append(m.group(0))
    return found


def test_issue_reference_rule():
    assert issue_references('as issue 4 asked; fixed in #12 (Issue #7), see bug 3') == [
        'issue 4', '#12', 'Issue #7', 'bug 3']
    assert issue_references('[mmengine issue 1655](https://github.com/open-mmlab/mmengine/'
                            'issues/1655), mmdeploy issue 2758, pytorch#1234, colour #fff, '
                            '## Install, [x](#install)') == []


@pytest.mark.parametrize('doc', DOCS)
def test_no_issue_numbers(doc):
    assert issue_references(read(doc)) == [], doc


# ------------------------------------------------------ no measured figure outside records
FIGURE = re.compile(r'(?<![\w.])\d[\d,]*(?:\.\d+)?\s?(?:ms|s|min|minutes|hours|GFLOPs|MiB|GiB|'
                    r'fps|images/s)\b|(?<![\w.])\d+(?:\.\d+)?\s?%|(?<![\w.])0\.\d{3,}\b')


def figures_outside_records(text):
    """Measured-looking figures (times, FLOPs, memory, rates, percentages, 3-decimal scores)
    outside record blocks, code and links: a figure there has no stored source."""
    text = re.sub(r'<!-- record: .*?<!-- /record -->', '', text, flags=re.S)
    text = re.sub(r'```.*?```', '', text, flags=re.S)
    text = re.sub(r'`[^`\n]*`', '', text)
    text = re.sub(r'\]\([^)]*\)', ']', text)
    return FIGURE.findall(text)


def test_figure_rule():
    assert figures_outside_records(
        'took 14.8 min, 29.23 GFLOPs, 142.9 ms, +9.7%, 844.7 MiB, AP 0.515, 120.9 fps') == [
        '14.8 min', '29.23 GFLOPs', '142.9 ms', '9.7%', '844.7 MiB', '0.515', '120.9 fps']
    assert figures_outside_records(
        'torch 2.13.0, mmcv 2.1.0, score >= 0.3, PCK@0.05, 640x640, `--interval-s 2`, '
        '```\nsleep 5 s\n```\n<!-- record: a -->\n0.515 ms\n<!-- /record -->') == []


@pytest.mark.parametrize('doc', DOCS)
def test_no_figures_outside_records(doc):
    assert figures_outside_records(read(doc)) == [], (
        f'{doc}: figures with no stored record; measure them with the tool, store the '
        'record in docs/records/ and render a table, or drop them')


# ---------------------------------------------------------------------------- links
@pytest.mark.parametrize('doc', DOCS)
def test_local_links_point_at_files(doc):
    """Moved modules, configs and pages leave no dead link behind."""
    broken = []
    for target in re.findall(r'\]\(([^)\s#]+)(?:#[^)]*)?\)', read(doc)):
        if re.match(r'[a-z]+://', target):
            continue
        if not osp.exists(osp.join(REPO, osp.dirname(doc), target)):
            broken.append(target)
    assert broken == [], f'{doc}: links to missing files: {broken}'


REPO_PATH = re.compile(r'`((?:yolox_kpt|tools|configs|deploy_configs|docs|tests|resources)/'
                       r'[\w./-]*)`')
CONFIG_NAME = re.compile(r'`((?:yolox-kpt|keypoint-detection)[\w.-]*\.py)`')


@pytest.mark.parametrize('doc', DOCS)
def test_named_paths_and_configs_exist(doc):
    """Paths in code spans (``yolox_kpt/...``, ``tools/...``, ``configs/...``) and config
    file names name things that exist, so a move or rename shows here; examples of the
    user's own files (``my_...``) are exempt."""
    text = read(doc)
    missing = [p for p in REPO_PATH.findall(text)
               if 'my_' not in p and not osp.exists(osp.join(REPO, p))]
    configs = {osp.basename(p) for pattern in ('configs/**/*.py', 'deploy_configs/**/*.py')
               for p in glob.glob(osp.join(REPO, pattern), recursive=True)}
    missing += [c for c in CONFIG_NAME.findall(text) if c not in configs]
    assert missing == [], f'{doc}: names that do not exist: {missing}'
