"""Checkpoints whose exported ``keypoint_visibility`` is worth comparing, for export tests."""
import torch


def spread_visibility(checkpoint: str, seed: int = 0, labelled_shift: float = 2.0) -> str:
    """Give a random checkpoint's occlusion branch (``multi_level_conv_kpt_occ``) random
    weights, in place, so that its three visibility states vary between priors and slots.

    The branch starts at a fixed "never occluded" (zero weights), which
    :func:`~yolox_kpt.testing.confident_random_checkpoint` keeps: every prior would then
    have the same P(occluded), and an export that gathered another prior's, or the
    wrong slot's, would still match PyTorch. Here its weights take the spread of the
    ``multi_level_conv_kpt_vis`` weights, its biases N(0, 1), and the "labelled" biases
    rise by ``labelled_shift``, so that most owned slots are labelled and the occlusion
    logits decide between v = 1 and v = 2: all three states occur.

    Args:
        checkpoint (str): a ``.pth`` with a ``state_dict`` (rewritten).
        seed (int): seed of the draws.
        labelled_shift (float): added to the ``kpt_vis`` biases (logits of v > 0).

    Returns:
        str: ``checkpoint``.

    Raises:
        ValueError: the checkpoint has no occlusion branch.
    """
    ckpt = torch.load(checkpoint, map_location='cpu')
    state = ckpt['state_dict']
    occ = [k for k in state if '.multi_level_conv_kpt_occ.' in k]
    if not occ:
        raise ValueError(f'{checkpoint}: no multi_level_conv_kpt_occ weights (a head built '
                         'with loss_kpt_occ=None?)')
    gen = torch.Generator().manual_seed(seed)
    for key in occ:
        vis = state[key.replace('_kpt_occ.', '_kpt_vis.')]
        scale = float(vis.std()) if key.endswith('weight') else 1.0
        state[key] = torch.randn(state[key].shape, generator=gen) * scale
        if key.endswith('bias'):
            vis.add_(labelled_shift)
    torch.save(ckpt, checkpoint)
    return checkpoint
