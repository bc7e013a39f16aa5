#!/usr/bin/env python3
"""The baseline w2v's GPU trainer is measured against: skip-gram with negative sampling the way
the d2l example trains it, in PyTorch.

usage: torch_sgns.py CORPUS OUT.txt [--dim 100] [--window 5] [--negative 5] [--sample 1e-4]
                     [--min-count 5] [--epochs 5] [--batch 512] [--lr 0.002] [--seed 1]
                     [--device cuda|cpu] [--chunk-tokens 2000000]

As in d2l: two nn.Embedding tables (centers, contexts), one row per center word holding its
context words (label 1) and `negative` noise words per context (label 0, unigram^0.75) with
a mask over padding, the score of each slot a dot product (torch.bmm), the loss masked sigmoid
binary cross-entropy averaged over a row's valid slots, Adam, batches built on the CPU and
copied to the device. Subsampling and dynamic windows use word2vec.c's rules, as w2v does, so
the two train on the same examples in distribution. Batch building is vectorised numpy over
chunks of the corpus (a faster loader than d2l's Python lists; the GPU work is d2l's).

Prints 'torch trained W words in S s: R words/s, final loss L' (words: in-vocabulary corpus
tokens x epochs, before subsampling, as w2v and word2vec.c count) and writes the center
vectors in word2vec text format.
"""
import argparse
import collections
import os
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    sys.exit(f"torch_sgns: {e.name} is not installed")

MAX_SENTENCE = 10000  # as w2v and word2vec.c cut long lines


def read_tokens(path):
    """Counts of every token (bytes) of the corpus."""
    counts = collections.Counter()
    with open(path, "rb") as f:
        for line in f:
            counts.update(line.split())
    return counts


def encode(path, index):
    """In-vocabulary token ids, and the sentence each belongs to (lines cut every 10,000)."""
    ids, sentence = [], []
    s = 0
    with open(path, "rb") as f:
        for line in f:
            words = line.split()
            for start in range(0, len(words), MAX_SENTENCE):
                part = [index[w] for w in words[start:start + MAX_SENTENCE] if w in index]
                ids.extend(part)
                sentence.extend([s] * len(part))
                s += 1
    return np.asarray(ids, dtype=np.int64), np.asarray(sentence, dtype=np.int64)


def build_rows(ids, sentence, keep, noise_cdf, window, negative, rng):
    """(centers [N], targets [N, L], labels [N, L], mask [N, L]) for one chunk, L = 2w(1+k)."""
    kept = rng.random(len(ids)) < keep[ids]
    ids, sentence = ids[kept], sentence[kept]
    n = len(ids)
    b = rng.integers(1, window + 1, size=n)
    offsets = [o for o in range(-window, window + 1) if o != 0]
    ctx = np.zeros((n, len(offsets)), dtype=np.int64)
    valid = np.zeros((n, len(offsets)), dtype=bool)
    positions = np.arange(n)
    for k, o in enumerate(offsets):
        j = positions + o
        ok = (j >= 0) & (j < n) & (np.abs(o) <= b)
        jj = np.clip(j, 0, n - 1)
        ok &= sentence[jj] == sentence
        ctx[:, k] = np.where(ok, ids[jj], 0)
        valid[:, k] = ok
    has_context = valid.any(axis=1)
    ids, ctx, valid = ids[has_context], ctx[has_context], valid[has_context]
    n = len(ids)
    noise = np.searchsorted(noise_cdf, rng.random((n, len(offsets) * negative)))
    noise_valid = np.repeat(valid, negative, axis=1) & (noise != np.repeat(ctx, negative, axis=1))
    targets = np.concatenate([ctx, noise], axis=1)
    mask = np.concatenate([valid, noise_valid], axis=1).astype(np.float32)
    labels = np.concatenate([valid.astype(np.float32), np.zeros_like(noise, dtype=np.float32)],
                            axis=1)
    return ids, targets, labels, mask


class SkipGram(torch.nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.embed_v = torch.nn.Embedding(vocab, dim)
        self.embed_u = torch.nn.Embedding(vocab, dim)
        torch.nn.init.uniform_(self.embed_v.weight, -0.5 / dim, 0.5 / dim)
        torch.nn.init.zeros_(self.embed_u.weight)

    def forward(self, center, targets):
        v = self.embed_v(center).unsqueeze(1)      # [B, 1, d]
        u = self.embed_u(targets)                  # [B, L, d]
        return torch.bmm(v, u.permute(0, 2, 1)).squeeze(1)  # [B, L]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("output")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-4)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--chunk-tokens", type=int, default=2_000_000)
    a = p.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_sgns: --device cuda, but PyTorch sees no CUDA device")

    counts = read_tokens(a.corpus)
    vocab = sorted((w for w, c in counts.items() if c >= a.min_count),
                   key=lambda w: (-counts[w], w))
    index = {w: i for i, w in enumerate(vocab)}
    freq = np.asarray([counts[w] for w in vocab], dtype=np.float64)
    ids, sentence = encode(a.corpus, index)
    total = freq.sum()
    f = freq / total
    keep = np.minimum(1.0, np.sqrt(a.sample / f) + a.sample / f) if a.sample > 0 else np.ones_like(f)
    noise = freq ** 0.75
    noise_cdf = np.cumsum(noise / noise.sum())
    noise_cdf[-1] = 1.0
    print(f"torch vocabulary {len(vocab)} words, corpus {len(ids)} tokens, device {a.device}",
          flush=True)

    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    device = torch.device(a.device)
    model = SkipGram(len(vocab), a.dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=a.lr)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.monotonic()
    last_loss = float("nan")
    for epoch in range(a.epochs):
        loss_sum, loss_rows = 0.0, 0
        for begin in range(0, len(ids), a.chunk_tokens):
            end = min(begin + a.chunk_tokens, len(ids))
            rows = build_rows(ids[begin:end], sentence[begin:end], keep, noise_cdf, a.window,
                              a.negative, rng)
            order = rng.permutation(len(rows[0]))
            for first in range(0, len(order), a.batch):
                pick = order[first:first + a.batch]
                center, targets, labels, mask = (torch.from_numpy(x[pick]).to(device, non_blocking=True)
                                                 for x in rows)
                pred = model(center, targets)
                # d2l's SigmoidBCELoss: masked mean over the row's valid slots, summed over rows.
                l = F.binary_cross_entropy_with_logits(pred, labels, weight=mask, reduction="none")
                l = l.sum(dim=1) / mask.sum(dim=1)
                optimizer.zero_grad(set_to_none=True)
                l.sum().backward()
                optimizer.step()
                if first % (50 * a.batch) == 0:  # reading the loss waits for the GPU: sample it
                    loss_sum += float(l.detach().sum())
                    loss_rows += len(pick)
        last_loss = loss_sum / max(loss_rows, 1)
        print(f"epoch {epoch + 1}: loss {last_loss:.4f} ({time.monotonic() - start:.1f} s)",
              flush=True)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.monotonic() - start
    words = len(ids) * a.epochs
    print(f"torch trained {words} words in {seconds:.2f} s: {words / seconds:.0f} words/s, "
          f"final loss {last_loss:.4f}", flush=True)
    vectors = model.embed_v.weight.detach().cpu().numpy()
    tmp = a.output + ".tmp"
    with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as out:
        out.write(f"{len(vocab)} {a.dim}\n")
        for w, row in zip(vocab, vectors):
            out.write(w.decode("utf-8", "surrogateescape") + " " +
                      " ".join(f"{x:.6g}" for x in row) + "\n")
    os.replace(tmp, a.output)


if __name__ == "__main__":
    main()
