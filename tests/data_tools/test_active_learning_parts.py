"""The active-learning experiment's pieces (``yolox_kpt.data_tools.active_learning``): the
sets and picks on a hand-made COCO dict, the statistics on known numbers, and the training
config built from the real CPU recipe."""
import math
import os.path as osp
import statistics

import pytest

from yolox_kpt.data_tools import active_learning as al
from yolox_kpt.data_tools.coco import ConverterError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RECIPE = osp.join(REPO, 'configs', 'yolox-kpt',
                  'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')


def coco(num_images=20):
    """Image i has i % 3 objects, each with i % 4 labelled keypoints out of 4."""
    images = [dict(id=i + 1, file_name=f'{i:06d}.jpg', width=320, height=256)
              for i in range(num_images)]
    anns = []
    for i in range(num_images):
        for _ in range(i % 3):
            kpts = []
            for j in range(4):
                kpts += [10.0, 20.0, 2 if j < i % 4 else 0]
            anns.append(dict(id=len(anns) + 1, image_id=i + 1, category_id=1,
                             bbox=[0, 0, 10, 10], keypoints=kpts))
    return dict(images=images, annotations=anns,
                categories=[dict(id=1, name='vehicle')], info=dict(description='test'))


def names(part):
    return [img['file_name'] for img in part['images']]


def test_split_is_disjoint_sized_seeded_and_keeps_the_labels():
    data = coco()
    labelled, pool = al.split_labelled_pool(data, 5, 9, seed=3)
    assert len(names(labelled)) == 5 and len(names(pool)) == 9
    assert not set(names(labelled)) & set(names(pool))
    again = al.split_labelled_pool(data, 5, 9, seed=3)
    assert (names(again[0]), names(again[1])) == (names(labelled), names(pool))
    assert names(al.split_labelled_pool(data, 5, 9, seed=4)[0]) != names(labelled)
    for part in (labelled, pool):
        ids = {img['id'] for img in part['images']}
        want = [a for a in data['annotations'] if a['image_id'] in ids]
        assert part['annotations'] == want
    with pytest.raises(ConverterError, match='asked for 21 images'):
        al.split_labelled_pool(data, 12, 9, seed=0)
    with pytest.raises(ConverterError, match='at least one'):
        al.split_labelled_pool(data, 0, 9, seed=0)


def test_random_pick_depends_on_the_seed_only():
    pool = [f'{i:06d}.jpg' for i in range(30)]
    pick = al.pick_random(pool, 6, seed=1)
    assert len(set(pick)) == 6 and set(pick) <= set(pool)
    assert al.pick_random(pool[::-1], 6, seed=1) == pick  # order of the pool does not count
    assert al.pick_random(pool, 6, seed=2) != pick
    with pytest.raises(ValueError, match='cannot pick 31 of 30'):
        al.pick_random(pool, 31, seed=1)


def test_ranked_pick_is_the_head_of_the_order():
    ranked = dict(order=['c.jpg', 'a.jpg', 'd.jpg', 'b.jpg'])
    assert al.pick_ranked(ranked, 2, ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg']) == ['c.jpg', 'a.jpg']
    with pytest.raises(ValueError, match='kept 4'):
        al.pick_ranked(ranked, 5)
    with pytest.raises(ValueError, match='not in the pool'):
        al.pick_ranked(ranked, 3, ['a.jpg', 'c.jpg'])


def test_with_frames_adds_exactly_the_picked_images_and_their_labels():
    data = coco()
    labelled, pool = al.split_labelled_pool(data, 4, 10, seed=0)
    picks = names(pool)[3:6]
    merged = al.with_frames(labelled, pool, picks, 'labelled + 3')
    assert names(merged) == names(labelled) + picks
    ids = {img['id'] for img in merged['images']}
    assert sorted(a['id'] for a in merged['annotations']) == sorted(
        a['id'] for a in data['annotations'] if a['image_id'] in ids)
    assert merged['categories'] == data['categories']
    assert merged['info']['description'] == 'labelled + 3'
    with pytest.raises(ValueError, match='not distinct pool frames'):
        al.with_frames(labelled, pool, [picks[0], picks[0]], '')
    with pytest.raises(ValueError, match='not distinct pool frames'):
        al.with_frames(labelled, pool, names(labelled)[:1], '')


def test_label_counts():
    data = coco(12)
    # images 0..11: objects i % 3, each with i % 4 keypoints
    assert al.label_counts(data) == dict(
        frames=12, objects=sum(i % 3 for i in range(12)),
        keypoints=sum((i % 3) * (i % 4) for i in range(12)))
    assert al.label_counts(data, ['000005.jpg', '000007.jpg']) == dict(
        frames=2, objects=2 + 1, keypoints=2 * 1 + 1 * 3)


def test_kept_metrics_keep_the_reported_figures():
    metrics = {'coco/bbox_mAP': 0.51234, 'coco/bbox_mAP_50': 0.8, 'coco/bbox_mAP_75': 0.5,
               'coco/bbox_AP_vehicle': 0.4, 'coco/bbox_AP_50_vehicle': 0.7,
               'coco/kpt_AP': 0.3, 'coco/kpt_AP_vehicle': 0.2, 'coco/kpt_AP_m_vehicle': 0.1,
               'coco/kpt_AR_vehicle': 0.5, 'coco/kpt_AP_cyclist': 0.25, 'coco/TP': 4.0}
    assert al.kept_metrics(metrics, ['vehicle', 'cyclist']) == {
        'bbox_mAP': 0.5123, 'bbox_mAP_50': 0.8, 'bbox_AP_vehicle': 0.4, 'kpt_AP': 0.3,
        'kpt_AP_vehicle': 0.2, 'kpt_AP_cyclist': 0.25}


def test_summaries_and_the_paired_difference():
    runs = [dict(metrics=dict(labelled=dict(m=0.1), ranked=dict(m=r, only=1.0),
                              random=dict(m=q)))
            for r, q in ((0.5, 0.4), (0.3, 0.35), (0.6, 0.5))]
    s = al.summarize_runs(runs)
    assert s['ranked']['m']['mean'] == round((0.5 + 0.3 + 0.6) / 3, 4)
    assert s['ranked']['m']['std'] == round(statistics.stdev([0.5, 0.3, 0.6]), 4)
    assert (s['random']['m']['min'], s['random']['m']['max']) == (0.35, 0.5)
    assert s['labelled']['m']['std'] == 0.0 and 'only' in s['ranked']
    d = al.paired_difference(runs)
    assert list(d) == ['m']  # a metric the baseline lacks is not compared
    assert d['m']['values'] == [0.1, -0.05, 0.1]
    assert d['m']['mean'] == round(0.15 / 3, 4) and d['m']['min'] == -0.05
    assert (d['m']['wins'], d['m']['seeds']) == (2, 3)
    assert al.summarize([0.2])['std'] == 0.0


def test_experiment_config_points_the_recipe_at_the_sets_and_scales_the_schedule():
    from mmengine.config import Config
    recipe = Config.fromfile(RECIPE)
    before = recipe.to_dict()
    cfg = al.experiment_config(recipe, '/d/train_x.json', '/d/img', '/d/val.json', '/d/vimg/',
                               epochs=30, num_train_images=40, seed=7, work_dir='/w/a',
                               name='run_a')
    train = cfg.train_dataloader.dataset.dataset
    assert (train.ann_file, train.data_prefix.img, train.data_root) == (
        '/d/train_x.json', '/d/img/', '')
    test = cfg.test_dataloader.dataset
    assert (test.ann_file, test.data_prefix.img) == ('/d/val.json', '/d/vimg/')
    assert cfg.test_evaluator.ann_file == '/d/val.json'
    assert cfg.val_dataloader is None and cfg.val_evaluator is None
    assert cfg.train_cfg.max_epochs == 30
    warmup, cosine = cfg.param_scheduler
    # 40 images, batch 8: 150 iterations, a sixth of them warming up (the recipe: 100/600)
    assert warmup['type'] == 'LinearLR' and warmup['end'] == 25
    assert (cosine['end'], cosine['T_max']) == (30, 29)
    assert cfg.randomness == dict(seed=7)
    assert (cfg.work_dir, cfg.experiment_name, cfg.load_from) == ('/w/a', 'run_a', None)
    assert cfg.default_hooks.checkpoint.interval == 30
    # the recipe's network and optimizer; its text round-trips
    assert cfg.model.to_dict() == before['model']
    assert cfg.optim_wrapper.to_dict() == before['optim_wrapper']
    assert Config.fromstring(cfg.pretty_text, '.py').to_dict() == cfg.to_dict()
    assert recipe.to_dict() == before  # the recipe's Config left as it was
    long = al.experiment_config(Config.fromfile(RECIPE), '/a', '/b', '/c', '/d', epochs=40,
                                num_train_images=800, seed=0, work_dir='/w', name='n')
    assert long.param_scheduler[0]['end'] == 100  # never longer than the recipe's
    assert long.load_from is None
    tuned = al.experiment_config(recipe, '/a', '/b', '/c', '/d', epochs=10, num_train_images=8,
                                 seed=0, work_dir='/w', name='n', load_from='/w/a/epoch_30.pth',
                                 lr_scale=0.1)
    assert (tuned.load_from, tuned.resume) == ('/w/a/epoch_30.pth', False)
    peak = recipe.optim_wrapper.optimizer.lr
    assert tuned.optim_wrapper.optimizer.lr == pytest.approx(0.1 * peak)
    assert tuned.param_scheduler[1]['eta_min'] == pytest.approx(
        0.1 * recipe.param_scheduler[1]['eta_min'])
    assert recipe.to_dict() == before
    assert math.ceil(800 / 8) * 40 / 6 > 100
    with pytest.raises(ValueError, match='1 epochs end before'):
        al.experiment_config(Config.fromfile(RECIPE), '/a', '/b', '/c', '/d', epochs=1,
                             num_train_images=8, seed=0, work_dir='/w', name='n')
