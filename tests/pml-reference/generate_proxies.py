"""Expected values for MetricLearning's classifier-style losses with class vectors of their own (CosFace, sub-centre
ArcFace, normalized softmax, Proxy-NCA, SoftTriple), computed by pytorch-metric-learning 2.8.1's own code.

Regenerate with:

    /usr/bin/python3 tests/pml-reference/generate_proxies.py /tmp/pml/src tests/MetricLearning.Tests/Core/Losses/Fixtures/pml-2.8.1-proxies.json

PML draws each loss's weights (torch.manual_seed(1) before each set's losses); the C# test
(tests/MetricLearning.Tests/Core/Losses/PmlProxiesReferenceTests.cs) copies them into ours and compares the value and
the gradients with respect to the embeddings and to the weights. PML keeps W (CosFace, sub-centre ArcFace, normalized
softmax) and fc (SoftTriple) as [embedding size, rows]; they are written one row per class (per sub-centre) as ours
hold them. On every input set, with classes = max(2, max label + 1).
"""
import os
import sys

pml_src, output = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pml_common as common  # noqa: E402

pytorch_metric_learning = common.setup(pml_src)
import math  # noqa: E402
import torch  # noqa: E402
from pytorch_metric_learning import losses, reducers  # noqa: E402


def degrees(radians):
    return math.degrees(radians)


def cases(classes, width):
    """(our class name, its settings as the C# test passes them, the PML loss, its weights' attribute, transposed)."""
    torch.manual_seed(1)
    weights = [1.0, 2.0, 0.5, 3.0]
    return [
        ("CosFaceLoss", {"margin": 0.35, "scale": 64},
         losses.CosFaceLoss(num_classes=classes, embedding_size=width), "W", True),
        ("CosFaceLoss", {"margin": 0.2, "scale": 16},
         losses.CosFaceLoss(num_classes=classes, embedding_size=width, margin=0.2, scale=16), "W", True),
        ("CosFaceLoss", {"margin": 0.35, "scale": 64, "reducer": "SumReducer"},
         losses.CosFaceLoss(num_classes=classes, embedding_size=width, reducer=reducers.SumReducer()), "W", True),
        # PML's margin is in degrees; ours in radians (0.5 rad is 28.6479 degrees, near PML's default 28.6).
        ("SubCenterArcFaceLoss", {"subCentres": 3, "margin": 0.5, "scale": 64},
         losses.SubCenterArcFaceLoss(num_classes=classes, embedding_size=width, margin=degrees(0.5), scale=64), "W", True),
        ("SubCenterArcFaceLoss", {"subCentres": 2, "margin": 0.2, "scale": 16},
         losses.SubCenterArcFaceLoss(num_classes=classes, embedding_size=width, margin=degrees(0.2), scale=16, sub_centers=2), "W", True),
        ("NormalizedSoftmaxLoss", {"temperature": 0.05},
         losses.NormalizedSoftmaxLoss(num_classes=classes, embedding_size=width), "W", True),
        ("NormalizedSoftmaxLoss", {"temperature": 0.5},
         losses.NormalizedSoftmaxLoss(num_classes=classes, embedding_size=width, temperature=0.5), "W", True),
        ("NormalizedSoftmaxLoss", {"temperature": 0.05, "reducer": "ThresholdReducer", "low": 0.5},
         losses.NormalizedSoftmaxLoss(num_classes=classes, embedding_size=width, reducer=reducers.ThresholdReducer(low=0.5)), "W", True),
        ("ProxyNcaLoss", {"softmaxScale": 1},
         losses.ProxyNCALoss(num_classes=classes, embedding_size=width), "proxies", False),
        ("ProxyNcaLoss", {"softmaxScale": 8},
         losses.ProxyNCALoss(num_classes=classes, embedding_size=width, softmax_scale=8), "proxies", False),
        ("ProxyNcaLoss", {"softmaxScale": 1, "reducer": "ClassWeightedReducer", "weights": weights},
         losses.ProxyNCALoss(num_classes=classes, embedding_size=width, reducer=reducers.ClassWeightedReducer(torch.tensor(weights))), "proxies", False),
        ("SoftTripleLoss", {"centresPerClass": 10, "lambda": 20, "gamma": 0.1, "margin": 0.01},
         losses.SoftTripleLoss(num_classes=classes, embedding_size=width), "fc", True),
        ("SoftTripleLoss", {"centresPerClass": 3, "lambda": 8, "gamma": 0.5, "margin": 0.2},
         losses.SoftTripleLoss(num_classes=classes, embedding_size=width, centers_per_class=3, la=8, gamma=0.5, margin=0.2), "fc", True),
    ]


def main():
    sets = common.inputs()
    result = common.header(pml_src, "tests/pml-reference/generate_proxies.py")
    result.update({"inputs": common.inputs_json(sets), "weighted_losses": []})
    for set_name, (embeddings, labels) in sets.items():
        classes = max(2, max(labels) + 1)
        for name, settings, loss, attribute, transposed in cases(classes, embeddings.shape[1]):
            result["weighted_losses"].append(common.weighted_entry(
                name, settings, loss, getattr(loss, attribute), set_name, embeddings, labels, classes, transposed))
    # SubCenterArcFaceLoss.get_outliers: each class's dominant sub-centre and the samples at more than the threshold
    # angle from it. PML's dominant_centers leaves the columns of classes absent from the batch uninitialised; only the
    # present classes' are written. Thresholds in degrees (PML's), radians in the settings (ours).
    result["outliers"] = []
    for set_name, (embeddings, labels) in sets.items():
        classes = max(2, max(labels) + 1)
        for sub_centers, threshold in [(3, 75), (3, 50), (2, 30)]:
            torch.manual_seed(3)
            loss = losses.SubCenterArcFaceLoss(num_classes=classes, embedding_size=embeddings.shape[1], sub_centers=sub_centers)
            outliers, dominant = loss.get_outliers(embeddings, torch.tensor(labels), threshold=threshold)
            present = sorted(set(labels))
            result["outliers"].append({
                "name": "SubCenterArcFaceLoss.FindOutliers", "settings": {"subCentres": sub_centers, "threshold": math.radians(threshold)},
                "input": set_name, "classes": classes, "weights": loss.W.detach().t().tolist(),
                "outliers": sorted(outliers.tolist()), "present_classes": present,
                "dominant_centres": [dominant[:, c].tolist() for c in present]})
    common.write(output, result)
    print(f"wrote {len(result['weighted_losses'])} loss cases and {len(result['outliers'])} outlier cases to {output}")


main()
