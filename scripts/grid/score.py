"""Top-1 accuracy of model files on image-folder zips, with the exported train.py's own model, decoding,
resampling and normalisation (so a score here is the one train.py gives its test split).

    python3 score.py --bundle RUN/bundle [--cache DIR] MODEL.safetensors=DATA.zip [MODEL=DATA ...]

The bundle is an `stochca export-torch` folder: its train.py is imported. A zip holding train/ and test/
scores its test/ images, any other zip all of them. A zip's classes are its class folders in code-point
order, taken as the model's classes in order (the digit sets' '0'..'9' and a renamed target's
'opencv-0'..'opencv-9' line up); the count must be the model's. Prints one JSON list of accuracies.
With --cache, a zip's eval views at an input size are kept in DIR (they depend on nothing else), so the
runs of a grid decode each set once.
"""
import argparse
import json
import os
import sys
import zipfile

import torch


def samples_of(path):
    names = [n for n in zipfile.ZipFile(path).namelist() if n.lower().endswith('.png')]
    tops = {n.split('/')[0] for n in names}
    if {'train', 'test'} <= tops:
        names = [n for n in names if n.startswith('test/')]
    folder = lambda n: n.split('/')[-2]  # noqa: E731
    classes = sorted({folder(n) for n in names})
    return [(n, classes.index(folder(n))) for n in sorted(names)], classes


def views(T, data, samples, S, cache):
    """[n, S, S, 3] uint8: each image's eval view, as train.py scores its test split."""
    path = cache and os.path.join(cache, f'views-{os.path.basename(data)}-{os.path.getsize(data)}-S{S}.pt')
    if path and os.path.exists(path):
        return torch.load(path)
    C = T.cache_size(S)
    root = zipfile.ZipFile(data)
    pixels = torch.stack([T.resample(T.decode(root.read(n), C, n), T.eval_view(C, S), S) for n, _ in samples])
    if path:
        torch.save(pixels, f'{path}.{os.getpid()}')
        os.replace(f'{path}.{os.getpid()}', path)  # whole or absent, whoever writes it first
    return pixels


def load(T, path):
    """The model file as train.py's ViT in evaluation mode, with its config and normalisation."""
    tensors, metadata = T.read_safetensors(path)
    cfg = json.loads(metadata['stochca_config'])
    norm = json.loads(metadata['stochca_normalization'])
    model = T.ViT(cfg)
    names = T.checkpoint_names(T.detect_naming(tensors), cfg['depth'], tensors)
    own = model.state_dict()
    model.load_state_dict({k: torch.cat([tensors[n] for n in ns]).reshape(own[k].shape) for k, ns in names.items()})
    return model.eval(), cfg, norm


def outputs(T, model, pixels, norm):
    """[n, ...]: the model on every view of `pixels` ([n, S, S, 3] uint8), normalised, 256 at a time."""
    return torch.cat([model(T.normalize(pixels[at:at + 256], 'cpu', norm['mean'], norm['std']))
                      for at in range(0, len(pixels), 256)])


def main():
    a = argparse.ArgumentParser()
    a.add_argument('--bundle', required=True)
    a.add_argument('--cache', help='a folder where eval views are kept')
    a.add_argument('pairs', nargs='+', help='MODEL=DATA')
    args = a.parse_args()
    sys.path.insert(0, args.bundle)
    import train as T  # the bundle's script: the same ViT, decoder and views

    torch.set_grad_enabled(False)
    decoded = {}
    out = []
    for pair in args.pairs:
        model_path, data = pair.split('=', 1)
        model, cfg, norm = load(T, model_path)
        samples, classes = samples_of(data)
        if len(classes) != cfg['numClasses']:
            raise SystemExit(f"{data}: {len(classes)} classes, the model has {cfg['numClasses']}")
        S = cfg['imageSize']
        key = (data, S)
        if key not in decoded:
            decoded[key] = views(T, data, samples, S, args.cache)
        pixels = decoded[key]
        labels = torch.tensor([y for _, y in samples])
        correct = (outputs(T, model, pixels, norm).argmax(1) == labels).sum().item()
        out.append(correct / len(samples))
    print(json.dumps(out))


if __name__ == '__main__':
    main()
