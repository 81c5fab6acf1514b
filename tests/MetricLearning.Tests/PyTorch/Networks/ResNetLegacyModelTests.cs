using System;
using System.IO;
using System.Security.Cryptography;
using FluentAssertions;
using MetricLearning.Models;
using MetricLearning.Tests.TestSupport;
using Xunit;

namespace MetricLearning.Tests.PyTorch.Networks;

/// <summary>
/// A model.json of format 2 (before parts had formats) naming a ResNet, which then lived in the core: loading finds the
/// network's format in MetricLearning.PyTorch, where it moved, and that format's checks run.
/// </summary>
public sealed class ResNetLegacyModelTests
{
    [Fact]
    public void A_format_2_ResNet_description_reaches_the_ResNet_format_in_its_new_package()
    {
        using var folder = new TempFolder();
        var weights = new byte[4096];
        File.WriteAllBytes(folder.File("weights.bin"), weights);
        string hash = Convert.ToHexStringLower(SHA256.HashData(weights));
        File.WriteAllText(folder.File("model.json"), $$"""
            {
              "Format": "metriclearning-model/2",
              "LibraryVersion": "0.1.0.0",
              "NetworkType": "ResNetEmbeddingNetwork",
              "Network": null,
              "Distance": "CosineSimilarity",
              "DistanceParameters": {},
              "Preprocessing": "InputScaling",
              "PreprocessingParameters": { "scale": 1, "mean": 0, "std": 1 },
              "InputShape": [3, 32, 32],
              "ClassNames": null,
              "Threshold": 0.5,
              "WeightsSha256": "{{hash}}",
              "Convolutional": null,
              "ResNet": { "Depth": 34, "EmbeddingSize": 64 }
            }
            """);

        var act = () => TrainedModel.Load(folder.Path);

        // The message is the ResNet format's own size check: the description was read as a ResNet-34 with a 64-wide head.
        act.Should().Throw<InvalidDataException>().WithMessage("*ResNet-34 with a 64-wide head, more than its 4096-byte weights file holds*");
    }
}
