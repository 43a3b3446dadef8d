#!/usr/bin/python3
"""Reference values for the preprocessing, feature and text stages, computed with scikit-learn.

Run with Debian's python3 (python3-sklearn, which ships the wine and iris data sets):

    /usr/bin/python3 packages/stages/scripts/generate-preprocess-fixtures.py

Writes src/builtin/fixtures/sklearn-preprocess.json and src/builtin/fixtures/sklearn-tfidf.json;
the stage tests compare against them (to 1e-9 where the algorithm is deterministic), so they
need no Python.

Data: the UCI wine and iris data sets as bundled with scikit-learn (sklearn.datasets, BSD-3-Clause;
the data themselves are from the UCI Machine Learning Repository), and for TF-IDF the first 80
entries of the `computers` file of Debian's fortunes package (BSD fortune(6), BSD licence, see
/usr/share/doc/fortunes/copyright) plus a few hand-written sentences exercising accents,
punctuation and Unicode.
"""
import json
import math
import pathlib

import numpy as np
import sklearn
from sklearn.datasets import load_iris, load_wine
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import SelectKBest, f_classif, mutual_info_classif
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.preprocessing import (
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)
from sklearn.utils.class_weight import compute_class_weight

out_dir = pathlib.Path(__file__).resolve().parent.parent / "src" / "builtin" / "fixtures"
out_dir.mkdir(parents=True, exist_ok=True)


def clean(value):
    """JSON-safe: NaN -> None, numpy scalars and arrays -> Python."""
    if isinstance(value, np.ndarray):
        return [clean(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (np.floating, float)):
        v = float(value)
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(value, np.integer):
        return int(value)
    return value


def columns(matrix, names):
    return {name: clean(matrix[:, j]) for j, name in enumerate(names)}


wine = load_wine()
names = [n.replace("/", "_") for n in wine.feature_names]
X_train, X_test, y_train, y_test = train_test_split(wine.data, wine.target, test_size=0.3, random_state=0, stratify=wine.target)

# --- impute: wine with 8% of the cells of five columns knocked out (seeded) ---
rng = np.random.RandomState(0)
holes = names[:5]
Xi_train = X_train.copy()
Xi_test = X_test.copy()
for j in range(5):
    Xi_train[rng.rand(len(Xi_train)) < 0.08, j] = np.nan
    Xi_test[rng.rand(len(Xi_test)) < 0.08, j] = np.nan
# Ties for most_frequent: the imputer must pick the smallest of the most frequent values.
Xi_train[:4, 4] = [100.0, 100.0, 90.0, 90.0]
impute = {"columns": holes, "train": columns(Xi_train[:, :5], holes), "test": columns(Xi_test[:, :5], holes), "cases": []}
for strategy, fill in [("mean", None), ("median", None), ("most_frequent", None), ("constant", -1.0)]:
    imp = SimpleImputer(strategy=strategy, fill_value=fill).fit(Xi_train[:, :5])
    impute["cases"].append(
        {
            "strategy": strategy,
            "fillValue": fill,
            "statistics": clean(imp.statistics_),
            "train": columns(imp.transform(Xi_train[:, :5]), holes),
            "test": columns(imp.transform(Xi_test[:, :5]), holes),
        }
    )
cities = np.array(["oslo", "bergen", None, "oslo", "bergen", "åre", None, "trondheim"], dtype=object).reshape(-1, 1)
impute["text"] = {
    "train": clean(cities[:, 0]),
    "mostFrequent": SimpleImputer(strategy="most_frequent", missing_values=None).fit(cities).statistics_[0],
}

# --- scale: wine plus a constant column and a few missing values ---
Xs_train = np.column_stack([X_train, np.full(len(X_train), 3.5)])
Xs_test = np.column_stack([X_test, np.full(len(X_test), 3.5)])
Xs_train[[3, 17, 40], 1] = np.nan
Xs_test[[2], 1] = np.nan
scale_names = names + ["constant"]
scale = {"columns": scale_names, "train": columns(Xs_train, scale_names), "test": columns(Xs_test, scale_names), "cases": []}
for label, scaler, params in [
    ("standard", StandardScaler(), {"method": "standard"}),
    ("standard-no-mean", StandardScaler(with_mean=False), {"method": "standard", "withMean": False}),
    ("minmax", MinMaxScaler(), {"method": "minmax"}),
    ("minmax-range-clip", MinMaxScaler(feature_range=(-1, 1), clip=True), {"method": "minmax", "featureRange": [-1, 1], "clip": True}),
    ("robust", RobustScaler(), {"method": "robust"}),
    ("robust-10-90", RobustScaler(quantile_range=(10, 90)), {"method": "robust", "quantileRange": [10, 90]}),
]:
    scaler.fit(Xs_train)
    case = {"label": label, "params": params, "train": columns(scaler.transform(Xs_train), scale_names), "test": columns(scaler.transform(Xs_test), scale_names)}
    for attr in ["mean_", "var_", "scale_", "min_", "data_min_", "data_max_", "center_"]:
        if getattr(scaler, attr, None) is not None:
            case[attr.rstrip("_")] = clean(getattr(scaler, attr))
    scale["cases"].append(case)

# --- encode ---
# Missing text as np.nan, as pandas reads it: scikit-learn treats NaN (not None) as missing.
enc_train = np.array(
    [["red", "S", 1.0], ["blue", "M", 2.0], ["green", "L", 1.0], ["blue", "S", 3.0], [np.nan, "XL", 2.0], ["Ärger", "M", 1.0], ["red", "M", 3.0]],
    dtype=object,
)
enc_test = np.array([["blue", "S", 1.0], ["purple", "M", 4.0], [np.nan, "L", 2.0], ["red", "XXL", 3.0]], dtype=object)
onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(enc_train)
ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1).fit(enc_train)
encode = {
    "columns": ["color", "size", "grade"],
    "train": {"color": clean(enc_train[:, 0]), "size": clean(enc_train[:, 1]), "grade": clean(enc_train[:, 2].astype(float))},
    "test": {"color": clean(enc_test[:, 0]), "size": clean(enc_test[:, 1]), "grade": clean(enc_test[:, 2].astype(float))},
    "categories": [clean(list(cats)) for cats in onehot.categories_],
    "onehot": {
        "featureNames": list(onehot.get_feature_names_out(["color", "size", "grade"])),
        "train": clean(onehot.transform(enc_train)),
        "test": clean(onehot.transform(enc_test)),
    },
    "ordinal": {"train": clean(ordinal.transform(enc_train)), "test": clean(ordinal.transform(enc_test))},
}

# --- k-fold (no shuffle: the assignment is deterministic) ---
iris = load_iris()
imbalanced = np.array(["b"] * 7 + ["a"] * 20 + ["c"] * 3 + ["a"] * 5 + ["b"] * 2)


def test_folds(splitter, y):
    folds = np.empty(len(y), dtype=int)
    for f, (_, test) in enumerate(splitter.split(np.zeros((len(y), 1)), y)):
        folds[test] = f
    return clean(folds)


kfold = {
    "iris": {"labels": clean(iris.target), "kfold5": test_folds(KFold(5), iris.target), "stratified5": test_folds(StratifiedKFold(5), iris.target)},
    "imbalanced": {
        "labels": imbalanced.tolist(),
        "kfold4": test_folds(KFold(4), imbalanced),
        "stratified3": test_folds(StratifiedKFold(3), imbalanced),
    },
}

# --- class weights ---
balance = {
    "labels": imbalanced.tolist(),
    "classes": sorted(set(imbalanced.tolist())),
    "weights": clean(compute_class_weight("balanced", classes=np.array(sorted(set(imbalanced.tolist()))), y=imbalanced)),
    "wine": {"labels": clean(y_train), "weights": clean(compute_class_weight("balanced", classes=np.unique(y_train), y=y_train))},
}

# --- polynomial features ---
poly_names = ["alcohol", "malic_acid", "ash", "magnesium"]
poly_idx = [names.index(n) for n in poly_names]
Xp_train = X_train[:12, poly_idx]
Xp_test = X_test[:5, poly_idx]
polynomial = {"columns": poly_names, "train": columns(Xp_train, poly_names), "test": columns(Xp_test, poly_names), "cases": []}
for degree, interaction_only, include_bias in [(2, False, False), (2, True, False), (3, False, True), (3, True, False)]:
    pf = PolynomialFeatures(degree=degree, interaction_only=interaction_only, include_bias=include_bias).fit(Xp_train)
    polynomial["cases"].append(
        {
            "params": {"degree": degree, "interactionOnly": interaction_only, "includeBias": include_bias},
            "featureNames": list(pf.get_feature_names_out(poly_names)),
            "powers": clean(pf.powers_),
            "train": clean(pf.transform(Xp_train)),
            "test": clean(pf.transform(Xp_test)),
        }
    )

# --- select k best ---
F, p = f_classif(X_train, y_train)
mi_runs = [mutual_info_classif(X_train, y_train, random_state=s) for s in range(5)]
gauss = np.random.RandomState(7)
n_g = 300
y_g = gauss.randint(0, 3, n_g)
X_g = np.column_stack(
    [
        y_g + gauss.normal(0, 0.5, n_g),  # informative
        gauss.normal(0, 1, n_g),  # noise
        np.sin(y_g * 2.0) + gauss.normal(0, 0.1, n_g),  # informative, non-linear
        y_g * 0.1 + gauss.normal(0, 1, n_g),  # weak
    ]
)
select = {
    "columns": names,
    "train": columns(X_train, names),
    "labels": clean(y_train),
    "fClassif": {"f": clean(F), "p": clean(p)},
    "selectedK5": [names[j] for j in np.where(SelectKBest(f_classif, k=5).fit(X_train, y_train).get_support())[0]],
    "mutualInfo": {"runs": clean(np.array(mi_runs)), "mean": clean(np.mean(mi_runs, axis=0))},
    "continuous": {
        "columns": ["informative", "noise", "nonlinear", "weak"],
        "train": columns(X_g, ["informative", "noise", "nonlinear", "weak"]),
        "labels": clean(y_g),
        "mutualInfo": clean(mutual_info_classif(X_g, y_g, random_state=0)),
        "mutualInfoOtherSeed": clean(mutual_info_classif(X_g, y_g, random_state=123)),
        "fClassif": {"f": clean(f_classif(X_g, y_g)[0]), "p": clean(f_classif(X_g, y_g)[1])},
    },
    # Ties in scores: SelectKBest keeps the later column.
    "ties": {"scores": [1.0, 3.0, 3.0, 2.0, 3.0], "k2": clean(np.where(SelectKBest(lambda X, y: np.array([1.0, 3.0, 3.0, 2.0, 3.0]), k=2).fit(np.zeros((3, 5)), [0, 1, 0]).get_support())[0])},
}

(out_dir / "sklearn-preprocess.json").write_text(
    json.dumps(
        {
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
            "impute": impute,
            "scale": scale,
            "encode": encode,
            "kfold": kfold,
            "balance": balance,
            "polynomial": polynomial,
            "selectKBest": select,
        },
        separators=(",", ":"),
    )
    + "\n"
)

# --- TF-IDF ---
entries = open("/usr/share/games/fortunes/computers", encoding="utf-8", errors="replace").read().split("\n%\n")
entries = [e.strip() for e in entries if e.strip()][:80]
extra_train = [
    "Café crème — naïve résumé, déjà vu!",
    "The snake_case and CamelCase tokens; e-mail, x, y & z.",
    "Ünïcödé façade: ﬁne ligatures ² and Ｆｕｌｌｗｉｄｔｈ letters.",
    "Don't stop; it's 2024 and 42 is the answer.",
]
extra_test = ["A café in the façade of the résumé office", "Completely unseen vocabulary zyzzyva quokka", ""]
train_docs = entries[:60] + extra_train
test_docs = entries[60:] + extra_test
tfidf_cases = []


def sparse_rows(matrix):
    """Each row as [[column, value], ...] of its non-zero entries: the dense matrices are mostly zeros."""
    matrix = matrix.tocsr()
    matrix.sort_indices()
    return [[[int(j), float(v)] for j, v in zip(matrix.indices[a:b], matrix.data[a:b])] for a, b in zip(matrix.indptr[:-1], matrix.indptr[1:])]


for label, params, kwargs in [
    ("defaults", {}, {}),
    (
        "english-bigrams-sublinear",
        {"stopWords": "english", "ngramRange": [1, 2], "sublinearTf": True, "minDf": 2, "maxDf": 0.5},
        {"stop_words": "english", "ngram_range": (1, 2), "sublinear_tf": True, "min_df": 2, "max_df": 0.5},
    ),
    ("accents-unicode-l1-raw-idf", {"stripAccents": "unicode", "norm": "l1", "smoothIdf": False}, {"strip_accents": "unicode", "norm": "l1", "smooth_idf": False}),
    ("accents-ascii-no-lowercase", {"stripAccents": "ascii", "lowercase": False}, {"strip_accents": "ascii", "lowercase": False}),
    ("max-features-trigrams", {"ngramRange": [2, 3], "maxFeatures": 12, "minDf": 0.02}, {"ngram_range": (2, 3), "max_features": 12, "min_df": 0.02}),
    ("no-idf-no-norm", {"useIdf": False, "norm": "none", "maxDf": 10}, {"use_idf": False, "norm": None, "max_df": 10}),
]:
    vectorizer = TfidfVectorizer(**kwargs).fit(train_docs)
    terms = list(vectorizer.get_feature_names_out())
    # max_features keeps the most frequent terms; make sure the cut is not between equal counts
    # (numpy's argsort breaks such ties in no documented order).
    if "max_features" in kwargs:
        from sklearn.feature_extraction.text import CountVectorizer

        counts = CountVectorizer(**{k: v for k, v in kwargs.items() if k in ("ngram_range", "min_df", "max_df")}).fit(train_docs)
        totals = np.asarray(counts.transform(train_docs).sum(axis=0)).ravel()
        ranked = sorted(totals, reverse=True)
        assert ranked[kwargs["max_features"] - 1] != ranked[kwargs["max_features"]], "tie at the max_features cut"
    tfidf_cases.append(
        {
            "label": label,
            "params": params,
            "terms": terms,
            "idf": clean(vectorizer.idf_) if vectorizer.use_idf else None,
            "train": sparse_rows(vectorizer.transform(train_docs)),
            "test": sparse_rows(vectorizer.transform(test_docs)),
        }
    )
(out_dir / "sklearn-tfidf.json").write_text(
    json.dumps(
        {
            "sklearn": sklearn.__version__,
            "source": "first 80 entries of /usr/share/games/fortunes/computers (Debian fortunes, BSD licence) and hand-written sentences",
            "train": train_docs,
            "test": test_docs,
            "cases": tfidf_cases,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    + "\n"
)
print("wrote", out_dir)
