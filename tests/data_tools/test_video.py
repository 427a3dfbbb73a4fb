"""Image folder -> mp4 -> GIF (``yolox_kpt.data_tools.video``), through
``tools/dataset_converters/{images_to_video,video_to_gif}.py`` run in-process."""
import cv2
import numpy as np
import pytest


def test_images_to_video_to_gif(tmp_path, tool):
    frames = tmp_path / 'frames'
    frames.mkdir()
    for i in range(12):  # a square moving right, so no two frames are alike
        img = np.full((48, 64, 3), 40, np.uint8)
        cv2.rectangle(img, (4 * i, 10), (4 * i + 12, 30), (0, 200, 255), -1)
        cv2.imwrite(str(frames / f'{i:03d}.png'), img)
    (frames / 'notes.txt').write_text('not an image')
    video = tmp_path / 'out' / 'clip.mp4'
    tool('images_to_video').main([str(frames), '--fps', '10', '--out', str(video)])

    cap = cv2.VideoCapture(str(video))
    read = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        read.append(frame)
    cap.release()
    assert len(read) == 12 and read[0].shape == (48, 64, 3)
    # Frames stay in file-name order: the square's centre moves right.
    xs = [np.argwhere(f[:, :, 2] > 150)[:, 1].mean() for f in read]
    assert all(a < b for a, b in zip(xs, xs[1:]))

    from PIL import Image
    gif = tmp_path / 'out' / 'clip.gif'
    tool('video_to_gif').main([str(video), '--fps', '5', '--start', '0.2', '--duration',
                               '0.6', '--scale', '0.5', '--out', str(gif)])
    with Image.open(gif) as im:
        assert im.n_frames == 3 and im.size == (32, 24)  # t = 0.2, 0.4, 0.6 s
    whole = tmp_path / 'out' / 'whole.gif'
    tool('video_to_gif').main([str(video), '--fps', '10', '--width', '40', '--out', str(whole)])
    with Image.open(whole) as im:
        assert im.n_frames == 12 and im.size == (40, 30)
    with pytest.raises(SystemExit, match='already exists'):
        tool('video_to_gif').main([str(video), '--out', str(whole)])


def test_images_to_video_errors(tmp_path, tool):
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(SystemExit, match='no images'):
        tool('images_to_video').main([str(empty), '--out', str(tmp_path / 'a.mp4')])
    mixed = tmp_path / 'mixed'
    mixed.mkdir()
    cv2.imwrite(str(mixed / '0.png'), np.zeros((32, 48, 3), np.uint8))
    cv2.imwrite(str(mixed / '1.png'), np.zeros((40, 48, 3), np.uint8))
    with pytest.raises(SystemExit, match=r'1\.png: image is 48x40 .* is 48x32'):
        tool('images_to_video').main([str(mixed), '--out', str(tmp_path / 'b.mp4')])
    tool('images_to_video').main([str(mixed), '--out', str(tmp_path / 'b.mp4'),
                                  '--resize-to-first', '--overwrite'])
    cap = cv2.VideoCapture(str(tmp_path / 'b.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 2
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (48, 32)
    cap.release()
