"""Expected retrieval and clustering metrics, computed by pytorch-metric-learning's AccuracyCalculator and scikit-learn.

    /usr/bin/python3 tests/pml-reference/generate_metrics.py /tmp/pml/src tests/MetricLearning.Tests/Core/Losses/Fixtures/pml-2.8.1-metrics.json

Needs Debian's python3-torch and python3-sklearn. PML's AccuracyCalculator is given its own torch k-NN (CustomKNN on
the Euclidean distance) instead of FAISS, and is asked for every k-NN metric, over queries and averaged over classes
(avg_of_avgs), with k set to all references, to R ("max_bin_count") and to a fixed depth. NMI and AMI are compared on
fixed cluster assignments with scikit-learn's scores (PML clusters with FAISS's k-means, which is not here); see
RetrievalMetricsReferenceTests.
"""
import os
import sys

pml_src, output = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pml_common as common  # noqa: E402

common.setup(pml_src)
import torch  # noqa: E402
from pytorch_metric_learning.distances import LpDistance  # noqa: E402
from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator  # noqa: E402
from pytorch_metric_learning.utils.inference import CustomKNN  # noqa: E402
from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score  # noqa: E402

KNN_METRICS = ["precision_at_1", "r_precision", "mean_average_precision_at_r", "mean_average_precision", "mean_reciprocal_rank"]


def retrieval_sets():
    """Queries and references in float32 (as AccuracyCalculator casts them), classes of different sizes, one query
    class the references lack, and a set where the queries are the references."""
    generator = torch.Generator().manual_seed(7)
    centres = 2.0 * torch.randn(6, 8, generator=generator)
    reference_labels = [c for c in range(6) for _ in range(3 + 2 * c)]
    references = centres[reference_labels] + torch.randn(len(reference_labels), 8, generator=generator)
    query_labels = [c for c in range(7) for _ in range(4)]
    query_centres = torch.cat([centres, 2.0 * torch.randn(1, 8, generator=generator)])
    queries = query_centres[query_labels] + torch.randn(len(query_labels), 8, generator=generator)
    return {
        "separate": (queries.float(), query_labels, references.float(), reference_labels, False),
        "same": (references.float(), reference_labels, references.float(), reference_labels, True),
    }


def accuracy(calculator, queries, query_labels, references, reference_labels, same):
    q = queries.double()
    if same:
        return calculator.get_accuracy(q, torch.tensor(query_labels), include=tuple(KNN_METRICS))
    return calculator.get_accuracy(q, torch.tensor(query_labels), references.double(), torch.tensor(reference_labels),
                                   ref_includes_query=False, include=tuple(KNN_METRICS))


def main():
    result = common.header(pml_src, "tests/pml-reference/generate_metrics.py")
    result["retrieval"] = []
    knn = CustomKNN(LpDistance(normalize_embeddings=False))
    for name, (queries, query_labels, references, reference_labels, same) in retrieval_sets().items():
        available = len(reference_labels) - (1 if same else 0)
        max_bin_count = max(reference_labels.count(label) for label in set(query_labels)) - (1 if same else 0)
        for k in [None, "max_bin_count", 5]:
            # "depth": how many neighbours PML's MAP and MRR looked at; "exact_r": whether that covers every R, so
            # that PML's R-precision and MAP@R are the metrics as defined (PML warns when they are not).
            depth = available if k is None else max_bin_count if k == "max_bin_count" else k
            entry = {"input": name, "queries": queries.tolist(), "query_labels": query_labels,
                     "references": references.tolist(), "reference_labels": reference_labels, "same": same,
                     "k": str(k), "depth": depth, "exact_r": depth >= max_bin_count}
            for average in [False, True]:
                calculator = AccuracyCalculator(k=k, avg_of_avgs=average, device=torch.device("cpu"), knn_func=knn)  # noqa: E501
                values = accuracy(calculator, queries, query_labels, references, reference_labels, same)
                entry["class_average" if average else "over_queries"] = values
            result["retrieval"].append(entry)
    # Precision@k is PML's precision_at_k function on the k nearest (AccuracyCalculator only reports k = 1).
    from pytorch_metric_learning.utils.accuracy_calculator import precision_at_k
    for entry in result["retrieval"]:
        q = torch.tensor(entry["queries"], dtype=torch.float64)
        r = torch.tensor(entry["references"], dtype=torch.float64)
        ql, rl = torch.tensor(entry["query_labels"]), torch.tensor(entry["reference_labels"])
        keep = torch.tensor([label in entry["reference_labels"] for label in entry["query_labels"]])
        _, indices = knn(q, 10, r, entry["same"])
        knn_labels = rl[indices][keep]
        entry["precision_at_k"] = {}
        for depth in [1, 3, 10]:
            entry["precision_at_k"][str(depth)] = precision_at_k(knn_labels, ql[keep][:, None], depth, False, False, torch.eq)
    result["clustering"] = []
    generator = torch.Generator().manual_seed(11)
    truth = torch.randint(0, 5, (200,), generator=generator).tolist()
    labellings = {
        "random": torch.randint(0, 7, (200,), generator=generator).tolist(),
        "noisy": [t if torch.rand(1, generator=generator).item() < 0.7 else int(torch.randint(0, 5, (1,), generator=generator)) for t in truth],
        "renamed": [(3 * t + 1) % 5 for t in truth],
        "one-cluster": [0] * 200,
        "singletons": list(range(200)),
    }
    for name, clusters in labellings.items():
        result["clustering"].append({"input": name, "classes": truth, "clusters": clusters,
                                     "nmi": normalized_mutual_info_score(truth, clusters),
                                     "ami": adjusted_mutual_info_score(truth, clusters)})
    many = torch.randint(0, 300, (2000,), generator=generator).tolist()
    near = [c if torch.rand(1, generator=generator).item() < 0.8 else int(torch.randint(0, 300, (1,), generator=generator)) for c in many]
    result["clustering"].append({"input": "300 classes", "classes": many, "clusters": near,
                                 "nmi": normalized_mutual_info_score(many, near), "ami": adjusted_mutual_info_score(many, near)})
    result["clustering"].append({"input": "one class", "classes": [4] * 50, "clusters": [0] * 25 + [1] * 25,
                                 "nmi": normalized_mutual_info_score([4] * 50, [0] * 25 + [1] * 25),
                                 "ami": adjusted_mutual_info_score([4] * 50, [0] * 25 + [1] * 25)})
    common.write(output, result)
    print(f"wrote {len(result['retrieval'])} retrieval cases and {len(result['clustering'])} clustering cases to {output}")


main()
