#!/usr/bin/python3
"""Regenerates packages/stages/src/metrics/sklearn-fixtures.json.

Every case holds inputs drawn from a seeded numpy generator and the values scikit-learn computes
on exactly those inputs; src/metrics/sklearn-fixtures.test.ts checks that Pipewright's pure
metric functions agree to 1e-9. Run it with Debian's scikit-learn:

    /usr/bin/python3 packages/stages/scripts/generate-metric-fixtures.py

Inputs are written with repr-exact floats (json.dumps of Python floats round-trips), so the
TypeScript side reads the very same doubles.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    confusion_matrix,
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    precision_recall_curve,
    precision_recall_fscore_support,
    r2_score,
    roc_auc_score,
)
from sklearn.preprocessing import label_binarize

OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'metrics', 'sklearn-fixtures.json')


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def labels(a):
    return [v.item() if hasattr(v, 'item') else v for v in a]


def recall_at_precision(y, scores, min_precision):
    """Highest recall over the thresholds of precision_recall_curve whose precision >= min_precision."""
    precision, recall, _ = precision_recall_curve(y, scores)
    return float(np.max(recall[precision >= min_precision]))


def prf(y_true, y_pred, classes):
    per_class = precision_recall_fscore_support(y_true, y_pred, labels=classes, zero_division=0)
    out = {
        'perClass': {
            'precision': floats(per_class[0]),
            'recall': floats(per_class[1]),
            'f1': floats(per_class[2]),
            'support': [int(s) for s in per_class[3]],
        }
    }
    for average in ('macro', 'weighted'):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=classes, average=average, zero_division=0)
        out[average] = {'precision': float(p), 'recall': float(r), 'f1': float(f)}
    return out


def binary_case(name, y, scores, threshold=0.5, min_precisions=(0.5, 0.8, 0.9)):
    y = np.asarray(y)
    scores = np.asarray(scores, dtype=np.float64)
    y_pred = (scores >= threshold).astype(int)
    return {
        'name': name,
        'kind': 'binary',
        'classes': [0, 1],
        'yTrue': labels(y),
        'scores': floats(scores),
        'threshold': threshold,
        'yPred': labels(y_pred),
        'expected': {
            'accuracy': float(accuracy_score(y, y_pred)),
            'balancedAccuracy': float(balanced_accuracy_score(y, y_pred)),
            **prf(y, y_pred, [0, 1]),
            'confusionMatrix': confusion_matrix(y, y_pred, labels=[0, 1]).tolist(),
            'rocAuc': float(roc_auc_score(y, scores)),
            'averagePrecision': float(average_precision_score(y, scores)),
            'logLoss': float(log_loss(y, scores, labels=[0, 1])),
            'recallAtPrecision': [
                {'minPrecision': p, 'recall': recall_at_precision(y, scores, p)} for p in min_precisions
            ],
        },
    }


def multiclass_case(name, classes, y, proba):
    y = np.asarray(y)
    proba = np.asarray(proba, dtype=np.float64)
    y_pred = np.asarray(classes)[np.argmax(proba, axis=1)]
    binarized = label_binarize(y, classes=classes)
    return {
        'name': name,
        'kind': 'multiclass',
        'classes': labels(classes),
        'yTrue': labels(y),
        'probabilities': floats(proba),
        'yPred': labels(y_pred),
        'expected': {
            'accuracy': float(accuracy_score(y, y_pred)),
            'balancedAccuracy': float(balanced_accuracy_score(y, y_pred)),
            **prf(y, y_pred, classes),
            'confusionMatrix': confusion_matrix(y, y_pred, labels=classes).tolist(),
            'rocAucOvrMacro': float(roc_auc_score(y, proba, multi_class='ovr', average='macro', labels=classes)),
            'averagePrecisionOvrMacro': float(average_precision_score(binarized, proba, average='macro')),
            'logLoss': float(log_loss(y, proba, labels=classes)),
        },
    }


def regression_case(name, y, y_hat):
    y = np.asarray(y, dtype=np.float64)
    y_hat = np.asarray(y_hat, dtype=np.float64)
    return {
        'name': name,
        'kind': 'regression',
        'yTrue': floats(y),
        'yPred': floats(y_hat),
        'expected': {
            'mse': float(mean_squared_error(y, y_hat)),
            'rmse': float(mean_squared_error(y, y_hat, squared=False)),
            'mae': float(mean_absolute_error(y, y_hat)),
            'r2': float(r2_score(y, y_hat)),
            'mape': float(mean_absolute_percentage_error(y, y_hat)),
        },
    }


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main():
    rng = np.random.default_rng(20240611)
    cases = []

    # Binary, continuous scores from a noisy logistic model.
    y = rng.integers(0, 2, 300)
    scores = 1 / (1 + np.exp(-(2.0 * (y - 0.5) + rng.normal(0, 1.2, y.size))))
    cases.append(binary_case('binary-continuous', y, scores))

    # Binary, scores rounded to one decimal: many ties, which every curve must group.
    y = rng.integers(0, 2, 200)
    scores = np.clip(np.round(0.5 + 0.25 * (y - 0.5) + rng.normal(0, 0.2, y.size), 1), 0.0, 1.0)
    cases.append(binary_case('binary-tied', y, scores, threshold=0.5))

    # Heavily imbalanced (2% positives), as in fraud detection; scores include exact 0 and 1.
    y = (rng.random(2000) < 0.02).astype(int)
    scores = 1 / (1 + np.exp(-(-4.0 + 5.0 * y + rng.normal(0, 1.5, y.size))))
    scores[:5] = 0.0
    scores[5:10] = 1.0
    cases.append(binary_case('binary-imbalanced', y, scores, threshold=0.3, min_precisions=(0.5, 0.8, 0.9, 0.95)))

    # Three classes, a noisy softmax.
    y = rng.integers(0, 3, 240)
    logits = rng.normal(0, 1.0, (y.size, 3))
    logits[np.arange(y.size), y] += 1.3
    cases.append(multiclass_case('multiclass-3', [0, 1, 2], y, softmax(logits)))

    # Four string classes, imbalanced, one class never predicted.
    classes = ['ant', 'bee', 'cat', 'dog']
    idx = rng.choice(4, 180, p=[0.5, 0.3, 0.15, 0.05])
    logits = rng.normal(0, 1.0, (idx.size, 4))
    logits[np.arange(idx.size), idx] += 1.0
    logits[:, 3] -= 4.0
    cases.append(multiclass_case('multiclass-strings', classes, np.asarray(classes)[idx], softmax(logits)))

    # Regression around a linear trend; no target is 0 (MAPE), one is tiny.
    x = rng.normal(0, 1, 250)
    y = 3.0 * x + 10 + rng.normal(0, 2, x.size)
    y[0] = 1e-3
    y_hat = 3.1 * x + 9.7
    cases.append(regression_case('regression-linear', y, y_hat))

    # Regression with a zero target (MAPE divides by machine epsilon there, as scikit-learn does).
    y = np.round(rng.normal(0, 5, 60), 2)
    y[3] = 0.0
    y_hat = y + rng.normal(0, 1, y.size)
    cases.append(regression_case('regression-zero-target', y, y_hat))

    fixture = {
        'generatedBy': 'packages/stages/scripts/generate-metric-fixtures.py',
        'sklearn': sklearn.__version__,
        'numpy': np.__version__,
        'cases': cases,
    }
    with open(OUT, 'w') as f:
        json.dump(fixture, f, indent=1)
        f.write('\n')
    print(f'wrote {len(cases)} cases to {os.path.relpath(OUT)}')


if __name__ == '__main__':
    main()
