"""What a new head scores before training, over many draws: the pretrained backbone's features of a test split
through the head the engine would draw for each seed (src/nn/init.ts: nn.Linear's U(-1/sqrt(in), 1/sqrt(in)),
weight then bias, from the engine's seeded generator, which the bundle's train.py carries).

    python3 head-draws.py --bundle RUN/bundle --seeds N [--cache DIR] DATA.zip

The bundle is a run's `stochca export-torch` folder: its model.safetensors is the starting model, whose head
is the draw of the run's seed; the script checks that it is (so the draws here are the ones runs get) and
prints JSON: the bundle and its seed, the data, how many heads score above 20 % and every seed's accuracy.
"""
import argparse
import json
import math
import sys

import torch

import score


def head_of(T, seed, dim, classes):
    """[classes, dim] weight and [classes] bias, in the engine's order of draws."""
    rng = T.seeded_rng(seed)
    bound = 1 / math.sqrt(dim)
    draws = [(2 * rng() - 1) * bound for _ in range(classes * dim + classes)]
    return (torch.tensor(draws[:classes * dim], dtype=torch.float32).reshape(classes, dim),
            torch.tensor(draws[classes * dim:], dtype=torch.float32))


def main():
    a = argparse.ArgumentParser()
    a.add_argument('--bundle', required=True)
    a.add_argument('--seeds', type=int, default=1000)
    a.add_argument('--cache', help='a folder where eval views are kept (score.py)')
    a.add_argument('data')
    args = a.parse_args()
    sys.path.insert(0, args.bundle)
    import train as T

    torch.set_grad_enabled(False)
    model, cfg, norm = score.load(T, f'{args.bundle}/model.safetensors')
    run_seed = json.load(open(f'{args.bundle}/experiment.json'))['seed']
    weight, bias = head_of(T, run_seed, cfg['dim'], cfg['numClasses'])
    if not (torch.equal(weight, model.head.weight) and torch.equal(bias, model.head.bias)):
        raise SystemExit(f"{args.bundle}: its head is not seed {run_seed}'s draw")

    samples, _ = score.samples_of(args.data)
    pixels = score.views(T, args.data, samples, cfg['imageSize'], args.cache)
    labels = torch.tensor([y for _, y in samples])
    model.head = torch.nn.Identity()
    # [n, dim]: the class token after the final norm, what the head sees.
    features = score.outputs(T, model, pixels, norm)
    accuracies = []
    for seed in range(args.seeds):
        w, b = head_of(T, seed, cfg['dim'], cfg['numClasses'])
        accuracies.append(((features @ w.T + b).argmax(1) == labels).sum().item() / len(samples))
    print(json.dumps({'bundle': args.bundle, 'bundle_seed': run_seed, 'data': args.data, 'images': len(samples),
                      'above_20': sum(x > 0.2 for x in accuracies), 'accuracies': accuracies}))


if __name__ == '__main__':
    main()
