#!/usr/bin/python3
"""scikit-learn's side of bench/ml/train-throughput.ts: the same data, models and epochs.

    /usr/bin/python3 bench/ml/sklearn_baseline.py --data DIR --epochs 3 --batch 200

DIR holds x.f32 (row-major float32, rows x cols) and y.u8 (one 0/1 byte per row), written by
train-throughput.ts. Prints one JSON line: model -> {rowsPerSecond, label}, where rowsPerSecond
is rows x epochs / fit time.

- mlp: MLPClassifier(hidden_layer_sizes=(64,), solver='adam', batch_size=200,
  learning_rate_init=0.001, alpha=0, max_iter=epochs), as train.mlp@1 with hidden [64].
- logistic: SGDClassifier(loss='log_loss', constant learning rate, alpha=0, max_iter=epochs):
  one pass over the rows per epoch like train.logistic@1, though per sample rather than Adam on
  mini-batches; scikit-learn has no mini-batch logistic regression.
- logistic_lbfgs (reference): LogisticRegression(lbfgs, max_iter=epochs), each iteration about
  one full-batch pass.
"""
import argparse
import json
import os
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.neural_network import MLPClassifier


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', required=True)
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--batch', type=int, default=200)
    args = parser.parse_args()
    y = np.fromfile(os.path.join(args.data, 'y.u8'), dtype=np.uint8).astype(np.int64)
    x = np.fromfile(os.path.join(args.data, 'x.f32'), dtype=np.float32).reshape(len(y), -1)
    rows = len(y)
    warnings.simplefilter('ignore', ConvergenceWarning)

    def timed(model):
        start = time.perf_counter()
        model.fit(x, y)
        return rows * args.epochs / (time.perf_counter() - start)

    out = {
        'mlp': {
            'rowsPerSecond': timed(
                MLPClassifier(
                    hidden_layer_sizes=(64,),
                    solver='adam',
                    batch_size=args.batch,
                    learning_rate_init=0.001,
                    alpha=0.0,
                    max_iter=args.epochs,
                    tol=0.0,
                    n_iter_no_change=args.epochs + 1,
                    random_state=0,
                )
            ),
            'label': 'MLPClassifier adam',
        },
        'logistic': {
            'rowsPerSecond': timed(
                SGDClassifier(loss='log_loss', learning_rate='constant', eta0=0.01, alpha=0.0, max_iter=args.epochs, tol=None, random_state=0)
            ),
            'label': 'SGDClassifier log_loss',
        },
        'logistic_lbfgs': {
            'rowsPerSecond': timed(LogisticRegression(max_iter=args.epochs)),
            'label': 'LogisticRegression lbfgs, rows x iterations',
        },
    }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
