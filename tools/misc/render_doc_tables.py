"""Render the measurement tables of the README and docs/ from their stored JSON records.

A table in a Markdown file is the text between a marker naming its record and a view, and
the closing marker; everything between them is generated (edit the record's tool, not the
table):

    <!-- record: docs/records/flops.json view=configs -->
    ...table and its source line, rewritten by this tool...
    <!-- /record -->

Records are written by the measuring tools (``yolox_kpt.utils.records.write_record``: the
tool's results plus the command, date, machine and load average). Each view below turns one
kind of record into a table followed by a source line naming the record, the command, the
date and the machine. ``tests/docs/test_doc_tables.py`` re-renders every file and fails if
a table differs from its record.

Examples:
    python tools/misc/render_doc_tables.py            # rewrite README.md, docs/, configs/
    python tools/misc/render_doc_tables.py --check    # exit 1 if a table is out of date
    python tools/misc/render_doc_tables.py docs/benchmarks.md
"""
import argparse
import glob
import os.path as osp
import re
import sys
from typing import Callable, Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
START = re.compile(r'^<!-- record: (?P<path>\S+)(?P<opts>(?: [\w-]+=\S+)*) -->$')
END = '<!-- /record -->'
#: files rendered by default, relative to the repository
DEFAULT_GLOBS = ('README.md', 'docs/**/*.md', 'configs/**/README.md')


class RenderError(ValueError):
    """A marker that cannot be rendered; the message names the file and line."""


# ------------------------------------------------------------------------------- views
def _table(header: List[str], rows: List[List[str]]) -> List[str]:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join(' --- ' for _ in header) + '|']
    return lines + ['| ' + ' | '.join(row) + ' |' for row in rows]


def view_configs(record: dict, opts: Dict[str, str]) -> List[str]:
    """``tools/analysis/get_flops.py --out``: parameters and FLOPs per config."""
    rows = []
    for m in record['models']:
        rows.append([f"`{osp.basename(m['config'])}`", f"{m['input'][0]}x{m['input'][1]}",
                     f"{m['params'] / 1e6:.2f}", f"{m['flops'] / 1e9:.2f}",
                     f"{2 * m['flops'] / 1e9:.2f}",
                     f"{100 * m['keypoint_overhead_vs_detector']:.1f}"])
    return _table(['config', 'input', 'params (M)', 'GFLOPs (mmdet: multiply-add = 1)',
                   'GFLOPs (x2, Ultralytics)', 'keypoint branch, % over the detector'], rows)


def view_model_cost(record: dict, opts: Dict[str, str]) -> List[str]:
    """``tools/analysis/benchmark.py --parts model``: cost of each variant against stock.
    ``columns=cost`` shows parameters and FLOPs only (exact), without the latencies (which
    a loaded machine makes noisy)."""
    rows_in = record['results']['model']
    timing = opts.get('columns', 'all') != 'cost'
    stock = {(r['size'], r['input']): r for r in rows_in if r['variant'] == 'stock'}
    rows = []
    for r in rows_in:
        base = stock.get((r['size'], r['input']))

        def vs(key, r=r, base=base):
            return f"{r[key] / base[key]:.3f}" if base else ''

        row = [r['size'], str(r['input']), r['variant'], f"{r['gflops']:.2f}", vs('gflops'),
               f"{r['mparams']:.2f}", vs('mparams')]
        if timing:
            row += [f"{r['pytorch_ms']:.1f}", vs('pytorch_ms'), f"{r['onnxruntime_ms']:.1f}",
                    vs('onnxruntime_ms')]
        rows.append(row)
    header = ['model', 'input', 'variant', 'GFLOPs', 'x stock', 'Mparams', 'x stock']
    if timing:
        header += ['PyTorch ms', 'x stock', 'ONNX Runtime ms', 'x stock']
    return _table(header, rows)


def view_targets(record: dict, opts: Dict[str, str]) -> List[str]:
    """``tools/analysis/benchmark.py``: its target checks (ratio to stock YOLOX-s).
    ``only=FLOPs,training_step`` keeps those checks (underscores for spaces)."""
    only = ({w.replace('_', ' ') for w in opts['only'].split(',')} if 'only' in opts
            else None)
    rows = []
    for c in record['checks']:
        if only is not None and c['what'] not in only:
            continue
        sign = '>=' if c['what'] == 'pipeline throughput' else '<='
        rows.append([c['what'], c['variant'], f"{c['ratio']:.3f}",
                     f"{sign} {c['target']:.2f}", 'met' if c['met'] else '**missed**'])
    if not rows:
        raise ValueError(f"no check in the record is one of {sorted(only or [])}")
    return _table(['what', 'variant', 'ratio to stock', 'target', ''], rows)


def view_eval_speed(record: dict, opts: Dict[str, str]) -> List[str]:
    """``tools/analysis/benchmark_eval.py``: metric time against pycocotools."""
    rows = [[r['what'], f"{r['median_s']:.2f}", f"{r['ratio_to_pycocotools_kpt']:.2f}",
             f"{r['kpt_AP']:.4f}"] for r in record['rows']]
    lines = _table(['what', 'median s', 'x pycocotools keypoints', 'keypoint AP'], rows)
    return lines + ['', f"{record['num_images']:,} generated images x {record['dets_per_image']} "
                    f"detections; median of {record['repeat']} run(s) after "
                    f"{record['warmup']} warm-up; keypoint AP identical in every row: "
                    f"{'yes' if record['identical_ap'] else '**no**'}."]


def view_metrics(record: dict, opts: Dict[str, str]) -> List[str]:
    """A record with ``metrics`` (``make demo``'s ``demo.json``, ``overfit_check.py``):
    box AP and keypoint AP overall and per class, with ONNX Runtime's beside PyTorch's when
    the record has ``onnx_metrics`` (the demo's verify step). ``classes=a,b`` picks and
    orders the classes (default: every class with a ``bbox_AP_<class>``)."""
    m, onnx = record['metrics'], record.get('onnx_metrics')
    classes = (opts['classes'].split(',') if 'classes' in opts else
               [k[len('bbox_AP_'):] for k in m if k.startswith('bbox_AP_')])

    def fmt(key, source=m):
        return f'{source[key]:.3f}' if key in source else ''

    def row(name, box, box50, kpt, kpt50):
        cells = [name, fmt(box), fmt(box50), fmt(kpt), fmt(kpt50)]
        return cells + [fmt(box, onnx), fmt(kpt, onnx)] if onnx else cells

    rows = [row('all', 'bbox_mAP', 'bbox_mAP_50', 'kpt_AP', 'kpt_AP_50')]
    rows += [row(c, f'bbox_AP_{c}', f'bbox_AP_50_{c}', f'kpt_AP_{c}', f'kpt_AP_50_{c}')
             for c in classes]
    header = ['class', 'box AP', 'box AP50', 'keypoint AP (OKS)', 'keypoint AP50']
    lines = _table(header + (['box AP, ONNX', 'keypoint AP, ONNX'] if onnx else []), rows)
    if record.get('minutes') is not None:
        steps = record.get('step_minutes')
        lines += ['', f"`{record.get('config', '')}`, {record['minutes']:.1f} min in all"
                  + (' (' + ', '.join(f'{k} {v:.1f}' for k, v in steps.items()) + ')'
                     if steps else '') + '.']
    if 'floor_reached' in record:
        floor = record['floor']
        lines += ['', f"Floor (box mAP >= {floor['bbox_mAP']}, every class's keypoint AP >= "
                  f"{floor['kpt_AP']}): {'reached' if record['floor_reached'] else '**missed**'}."]
    return lines


def view_geometry(record: dict, opts: Dict[str, str]) -> List[str]:
    """``tools/analysis/eval_geometry.py --record``: relative distance error and heading
    error of the tyre-based and the box-bottom estimates per bucket, for one run
    (``run=N``, default 0: the first ``--pixel-noise``), then what the run used and the
    goal checks."""
    run = record['runs'][int(opts.get('run', 0))]

    def pct(x):
        return '' if x is None else f'{100 * x:.1f}%'

    def deg(x):
        return '' if x is None else f'{x:.1f}'

    rows = []
    for b in run['buckets']:
        if not b['n']:
            continue
        t, bb = b['tyres'], b['box_bottom']
        ratio = b['box_over_tyres']
        rows.append([b['group'], b['bucket'], str(b['n']),
                     f"{pct(t['distance_rel']['median'])} / {pct(t['distance_rel']['p90'])}",
                     f"{pct(bb['distance_rel']['median'])} / {pct(bb['distance_rel']['p90'])}",
                     '' if ratio is None else f'{ratio:.1f}x',
                     f"{deg(t['heading_deg']['median'])} / {deg(t['heading_deg']['p90'])}",
                     f"{deg(bb['heading_deg']['median'])} / {deg(bb['heading_deg']['p90'])}"])
    lines = _table(['split', 'bucket', 'n', 'tyres: distance error median / p90',
                    'box bottom: distance error median / p90', 'box / tyres (median)',
                    'tyres: heading error median / p90 (deg)',
                    'box bottom: heading error median / p90 (deg)'], rows)
    if run['source'] == 'predictions':
        what = (f"detector predictions matched to {run['objects']} labelled "
                f"{'/'.join(record['classes'])} ({run['unmatched']} without a match)")
    else:
        noise = run['pixel_noise_px']
        what = (f"labelled points and boxes of {run['objects']} {'/'.join(record['classes'])} "
                f"objects in {record['images']} images"
                + (f', each coordinate moved by Gaussian noise of {noise:g} px' if noise
                   else ', exact'))
    methods = ', '.join(f'{k} {v}' for k, v in run['tyre_methods'].items())
    goals = '; '.join(f"{k}: {'n/a' if v is None else 'yes' if v else '**no**'}"
                      for k, v in run['goal'].items())
    return lines + ['', f'Estimated from {what}. Tyre-based methods used: {methods}. '
                    f'{goals}.']


def view_tracking(record: dict, opts: Dict[str, str]) -> List[str]:
    """``tools/analysis/eval_tracking.py --record``: HOTA, DetA, AssA, IDF1, MOTA and ID
    switches of the keypoint-aware tracker and of the IoU-only baseline (same detections),
    per class and over all classes, then what the detections were."""
    variants = record['variants']
    classes = [c for c, m in variants['keypoint'].items() if isinstance(m, dict)]
    rows = []
    for cls in classes:
        for name, label in (('keypoint', 'IoU + keypoints'), ('iou', 'IoU only')):
            m = variants[name][cls]
            rows.append([cls if name == 'keypoint' else '', label] +
                        [f'{m[k]:.1f}' for k in ('HOTA', 'DetA', 'AssA', 'IDF1', 'MOTA')] +
                        [str(m['IDSW'])])
    lines = _table(['classes', 'matching', 'HOTA', 'DetA', 'AssA', 'IDF1', 'MOTA',
                    'ID switches'], rows)
    det, data, trk = record['detections'], record['data'], record['tracker']
    if det['kind'] == 'model':
        what = f"the detections of `{det['model']}`"
    else:
        what = (f"the ground truth perturbed like a detector's output: box jitter "
                f"{det['box_jitter']:g} of the side, boxes of partly hidden objects shrunk "
                f"{100 * det['occlusion_cut']:.0f}% of the way to their visible part, "
                f"{100 * det['miss_rate']:.0f}% missed plus more when hidden, scores falling "
                f"with occlusion (noise {det['score_noise']:g}), "
                f"{det['false_positives_per_frame']:g} false positives a frame, keypoint "
                f"jitter {det['kpt_jitter']:g} of the object size (seed {det['seed']})")
    return lines + ['', f"{data['sequences']} synthetic sequences, {data['frames']} frames, "
                    f"{data['tracks']} ground-truth tracks (objects less than "
                    f"{100 * data['min_visibility']:.0f}% visible are not counted); "
                    f"{what}. Keypoint weight {trk['oks_weight']:g}, OKS sigmas x"
                    f"{trk['oks_sigma_scale']:g}. Median error of the returned keypoints: "
                    f"{variants['keypoint']['keypoint_error_px']} px smoothed, "
                    f"{variants['keypoint_error_px_as_detected']} px as detected."]


def view_exported(record: dict, opts: Dict[str, str]) -> List[str]:
    """``tools/analysis/eval_exported.py --record`` (and ``tools/device_check.py``): each
    exported model's box AP, keypoint AP overall and per class, network latency and its
    ratio to the first model's, and how its detections follow the first model's.
    ``models=a,b`` picks and orders the models (default: all)."""
    models = record['models']
    names = opts['models'].split(',') if 'models' in opts else list(models)
    classes = [c for c in record['classes']
               if any(f'kpt_AP_{c}' in models[n]['metrics'] for n in names)]

    def num(m, key):
        return f"{m['metrics'][key]:.3f}" if key in m['metrics'] else ''

    rows = []
    for name in names:
        m, lat, par = models[name], models[name]['latency_ms'], models[name].get('parity')
        rows.append([name, num(m, 'bbox_mAP'), num(m, 'bbox_mAP_75'), num(m, 'kpt_AP'),
                     *(num(m, f'kpt_AP_{c}') for c in classes),
                     f"{lat['infer_p50']:.1f} / {lat['infer_p90']:.1f}",
                     f"{m['latency_ratio']:.2f}",
                     '' if par is None else f"{100 * par['matched']:.1f}% / "
                     f"{par['box_max_px']:.1f} / {par['kpt_max_px']:.1f}"])
    lines = _table(['model', 'box AP', 'box AP75', 'keypoint AP',
                    *(f'keypoint AP {c}' for c in classes), 'network ms p50 / p90',
                    f'latency / {names[0]}',
                    f'vs {names[0]}: matched / box max px / keypoint max px'], rows)
    return lines + ['', f"{record['images']} images of `{record['ann_file']}`, each model "
                    f"on {', '.join(sorted({models[n]['device'] for n in names}))}; latency "
                    f"over all images after {record['warmup']} warm-up frames, the models "
                    "taking turns on each image; matched: detections above score "
                    f"{record['parity_thr']} with "
                    "one of the same class at IoU >= 0.5."]


def view_mining_speed(record: dict, opts: Dict[str, str]) -> List[str]:
    """``tools/analysis/benchmark_mining.py --record``: frames per second of the model alone
    and of the whole mining loop per number of worker processes, their ratio against the
    goal, the set measured, then where each worker's time goes in the loop."""
    goal = record['goal']
    rows = [[str(r['workers']), str(r['threads']), f"{r['model_fps']:.1f}",
             f"{r['loop_fps']:.1f}", f"{r['ratio']:.2f}",
             'met' if r['ratio'] >= goal else '**missed**', f"{r['span_fps']:.1f}",
             f"{r['wall_fps']:.1f}"] for r in record['rows']]
    lines = _table(['workers', 'threads each', 'model only (frames/s)',
                    'whole loop (frames/s)', 'loop / model', f'goal >= {goal:g}',
                    'first start to last end (frames/s)', 'with start-up (frames/s)'], rows)
    opts_ = record['loop_options']
    ms = record['breakdown_ms']
    lines += ['', f"{record['recordings']} {'generated ' if record['generated'] else ''}"
              f"videos, {record['frames']} frames of {record['img_size'][0]}x"
              f"{record['img_size'][1]}, `{osp.basename(record['model'])}` on "
              f"{record['cores']} cores. Whole loop: decode, preprocess, inference, tracking "
              f"and ranking signals (`--track --rank --score-thr {opts_['score_thr']:g}`), "
              "each worker's frames over its own time mining them (video opened to result "
              "made), summed over the workers as the model-only figure sums its processes; "
              "first start to last end: all frames over that span; with start-up: the "
              "tool's whole run. Model only: preprocessed frames through ONNX Runtime in as "
              f"many processes at once, median of {record['repeat']} frames after "
              f"{record['warmup']}; each the median of {record['rounds']} rounds, "
              f"alternating. Best loop over best model only: {record['best_ratio']:.2f}. "
              f"Each alone, in one process: decode {ms['decode']:.2f} ms a frame, "
              f"preprocess {ms['preprocess']:.2f}, inference {ms['inference']:.2f}.", '']
    names = dict(frames='waiting for decoded frames',
                 inference='inference (preprocess, network, outputs)', tracking='tracking',
                 ranking='ranking signals', hits='hit list', other='other')
    stages = list(record['rows'][0]['stage_ms'])
    table = [[names.get(k, k)] + [f"{r['stage_ms'][k]:.2f}" for r in record['rows']]
             for k in stages]
    table.append(['all (1000 / a worker\'s frames per second)'] +
                 [f"{sum(r['stage_ms'].values()):.2f}" for r in record['rows']])
    return lines + _table(['ms a frame in the loop, each worker'] +
                          [f"{r['workers']} x {r['threads']}" for r in record['rows']], table)


def view_active_learning(record: dict, opts: Dict[str, str]) -> List[str]:
    """``tools/analysis/active_learning.py``: per metric, the model of the labelled set
    alone and the two arms (mean +- std over the seeds), ranked minus random seed by seed
    (mean, min to max) and the seeds ranked won; then the objects in the picked frames,
    the sizes, recipe and mining options, and the signals that picked the ranked frames."""
    summary, diff, sizes = record['summary'], record['difference'], record['sizes']
    names = dict(bbox_mAP='box mAP', bbox_mAP_50='box AP50', kpt_AP='keypoint AP',
                 kpt_AP_50='keypoint AP50')
    for c in record['classes']:
        names[f'bbox_AP_{c}'], names[f'kpt_AP_{c}'] = f'box AP {c}', f'keypoint AP {c}'
    keys = [k for k in ['bbox_mAP', 'kpt_AP'] + [f'kpt_AP_{c}' for c in record['classes']] +
            [f'bbox_AP_{c}' for c in record['classes']] if k in diff]

    def cell(s):
        return f"{s['mean']:.3f} ± {s['std']:.3f}"

    rows = []
    for k in keys:
        d = diff[k]
        rows.append([names[k], *(cell(summary[a][k]) for a in ('labelled', 'ranked', 'random')),
                     f"{d['mean']:+.3f} ({d['min']:+.3f} to {d['max']:+.3f})",
                     f"{d['wins']} of {d['seeds']}"])
    objects = record['picked_objects']
    rows.append(['objects in the frames added', '',
                 *(f"{objects[a]['mean']:.1f} ± {objects[a]['std']:.1f}"
                   for a in ('ranked', 'random')),
                 f"{objects['ranked']['mean'] - objects['random']['mean']:+.1f}", ''])
    k = sizes['k']
    lines = _table(['metric', f"model A ({sizes['labelled']} labelled frames)",
                    f'+ {k} ranked', f'+ {k} random', 'ranked - random (min to max)',
                    'seeds ranked better'], rows)
    signals: Dict[str, int] = {}
    for run in record['runs']:
        for name, count in run['picked_by_signal'].items():
            signals[name] = signals.get(name, 0) + count
    picked = ', '.join(f'{n} {c}' for n, c in sorted(signals.items(), key=lambda s: -s[1]))
    gen = record['data']['generated']
    data = (f"{gen['num_train']} generated frames of {gen['img_size'][0]}x"
            f"{gen['img_size'][1]} (seed {gen['seed']})" if gen else
            f"`{record['data']['root']}`")
    mining, epochs = record['mining'], record['epochs']
    scored = min(run['scored_frames'] for run in record['runs'])
    verdict = []
    for key in ('bbox_mAP', 'kpt_AP'):
        d = diff[key]
        how = ('higher in every seed' if d['min'] > 0 else 'lower in every seed'
               if d['max'] < 0 else f"higher in {d['wins']} of {d['seeds']} seeds")
        verdict.append(f'{names[key]} {how}')
    arms = (f"model A fine-tuned on the labelled frames plus k for {epochs['arms']} epochs "
            f"at {record['finetune_lr_scale']:g} times the recipe's learning rate"
            if record['arms_start'] == 'from model A' else
            f"the recipe from scratch on the labelled frames plus k for {epochs['arms']} "
            "epochs")
    return lines + ['', f"Ranked against random: {'; '.join(verdict)}.",
                    '', f"{len(record['seeds'])} seeds (each draws the sets, seeds the "
                    f"trainings and the random pick): {sizes['labelled']} labelled frames and "
                    f"a pool of {sizes['pool']} drawn from {data}, one validation set of "
                    f"{sizes['val']} frames. `{osp.basename(record['config'])}` at "
                    f"{record['input_size'][0]}x{record['input_size'][1]}, batch "
                    f"{record['batch_size']}: model A trained on the labelled frames for "
                    f"{epochs['model_a']} epochs; each arm {arms}, with the seed's training "
                    f"seed. Ranked: the top {k} of `mine_frames.py "
                    f"{' '.join(mining['options'])}` run with model A (signals "
                    f"{', '.join(mining['signals'])}; it scored {scored} of the {sizes['pool']} "
                    f"pool frames above 0, a seed's least), random: {k} drawn with the seed. "
                    f"Mean ± "
                    f"sample standard deviation over the seeds; ranked - random: the mean of "
                    f"the per-seed differences, and their smallest and largest. The ranked "
                    f"frames' strongest signal: {picked}. {record['minutes']:.0f} min in all."]


VIEWS: Dict[str, Callable[[dict, Dict[str, str]], List[str]]] = dict(
    configs=view_configs, model_cost=view_model_cost, targets=view_targets,
    eval_speed=view_eval_speed, metrics=view_metrics, geometry=view_geometry,
    tracking=view_tracking, exported=view_exported,
    mining_speed=view_mining_speed, active_learning=view_active_learning)


def source_line(record: dict, record_path: str, doc_path: str) -> str:
    """The record, its command, date, machine and load, as one line under the table."""
    src = record['source']
    machine = src['machine']
    pkgs = machine.get('packages', {})
    what = [f"{machine.get('cpu', machine.get('arch', '?'))}, {machine.get('cores')} cores"]
    if 'torch' in pkgs:
        threads = machine.get('torch_threads')
        what.append(f"torch {pkgs['torch']}" + (f' ({threads} threads)' if threads else ''))
    if 'onnxruntime' in pkgs:
        what.append(f"onnxruntime {pkgs['onnxruntime']}")
    load = src.get('load_avg') or []
    load_text = (f"; load average {' / '.join(f'{x:.1f}' for x in load)} (1 / 5 / 15 min)"
                 if load else '')
    link = osp.relpath(record_path, osp.dirname(doc_path) or '.')
    return (f"<sub>Source: [`{record_path}`]({link}), written by `{src['command']}` on "
            f"{src['date'][:10]}; {'; '.join(what)}{load_text}.</sub>")


# ------------------------------------------------------------------------------ render
def load_record(path: str) -> dict:
    from yolox_kpt.utils.records import read_record
    return read_record(path)


def render_text(text: str, doc_path: str, repo: Optional[str] = None) -> str:
    """``text`` with every record block regenerated from its record.

    Args:
        text: Markdown source.
        doc_path: The file's path relative to ``repo`` (for error messages and links).
        repo: Where record paths are relative to (default: this repository).

    Raises:
        RenderError: an unclosed or nested marker, an unknown view, a missing or invalid
            record, or a record the view cannot read; naming ``doc_path`` and the line.
    """
    repo = repo or REPO
    lines = text.split('\n')
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        match = START.match(line.strip())
        if line.strip() == END:
            raise RenderError(f'{doc_path}:{i + 1}: {END} without an opening marker')
        if not match:
            i += 1
            continue
        where = f'{doc_path}:{i + 1}'
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == END
                    or START.match(lines[j].strip())), None)
        if end is None or lines[end].strip() != END:
            raise RenderError(f'{where}: record marker not closed by {END}')
        opts = dict(o.split('=', 1) for o in match['opts'].split())
        view = opts.pop('view', None)
        if view not in VIEWS:
            raise RenderError(f'{where}: view={view} is not one of {", ".join(sorted(VIEWS))}')
        record_file = osp.join(repo, match['path'])
        if not osp.isfile(record_file):
            raise RenderError(f'{where}: no record {match["path"]}')
        try:
            record = load_record(record_file)
            body = VIEWS[view](record, opts)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as e:
            raise RenderError(f'{where}: cannot render {match["path"]} as view={view}: '
                              f'{type(e).__name__}: {e}') from e
        out += [''] + body + ['', source_line(record, match['path'], doc_path), '', END]
        i = end + 1
    return '\n'.join(out)


def default_files(repo: Optional[str] = None) -> List[str]:
    """README.md, docs/**/*.md and configs/**/README.md, relative to ``repo``."""
    repo = repo or REPO
    found = set()
    for pattern in DEFAULT_GLOBS:
        found.update(osp.relpath(p, repo)
                     for p in glob.glob(osp.join(repo, pattern), recursive=True))
    return sorted(found)


def main(argv=None):
    head, _, rest = __doc__.strip().partition('\n\n')
    parser = argparse.ArgumentParser(description=head, epilog=rest,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('files', nargs='*', help='Markdown files (default: README.md, '
                        'docs/**/*.md, configs/**/README.md)')
    parser.add_argument('--check', action='store_true',
                        help='write nothing; exit 1 listing the files whose tables differ')
    args = parser.parse_args(argv)
    files = [osp.relpath(osp.abspath(f), REPO) for f in args.files] or default_files()
    stale = []
    for doc in files:
        with open(osp.join(REPO, doc)) as f:
            text = f.read()
        try:
            new = render_text(text, doc)
        except RenderError as e:
            sys.exit(f'error: {e}')
        if new != text:
            stale.append(doc)
            if not args.check:
                with open(osp.join(REPO, doc), 'w') as f:
                    f.write(new)
    verb = 'out of date' if args.check else 'rewritten'
    for doc in stale:
        print(f'{verb}: {doc}')
    if not stale:
        print(f'{len(files)} files: every table matches its record')
    if args.check and stale:
        sys.exit(1)


if __name__ == '__main__':
    main()
