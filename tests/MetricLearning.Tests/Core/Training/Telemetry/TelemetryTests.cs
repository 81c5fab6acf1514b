using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Losses;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Training;

/// <summary>The trainers' metrics, log events and step progress, seen as an app's listeners see them.</summary>
public sealed class TelemetryTests
{
    /// <summary>Hands out one recording logger for every category.</summary>
    private sealed class RecordingLoggerFactory(RecordingLogger logger) : ILoggerFactory
    {
        public List<string> Categories { get; } = new();

        public ILogger CreateLogger(string categoryName)
        {
            Categories.Add(categoryName);
            return logger;
        }

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }

    [Fact]
    public void Trainers_resolved_from_the_container_log_through_the_apps_logger_factory()
    {
        var logger = new RecordingLogger();
        var factory = new RecordingLoggerFactory(logger);
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(factory);
        services.AddMetricLearning(o => { o.Trainer.Epochs = 1; o.Network.InputSize = 6; });
        using var provider = services.BuildServiceProvider();
        var (inputs, labels) = Blobs.Create(perClass: 8, classes: 2, dimensions: 6, seed: 55);
        using var _ = inputs;
        using var network = Network(55);

        provider.GetRequiredService<SiameseTrainer>().Fit(new SiameseNetwork(network), new LabelledData(inputs, labels));

        factory.Categories.Should().Contain(typeof(SiameseTrainer).FullName!);
        logger.Events.Select(e => e.Id).Should().Contain(TrainingTelemetry.EpochCompleted);
        using var withoutLogging = new ServiceCollection().AddMetricLearning().Services.BuildServiceProvider();
        withoutLogging.GetRequiredService<EmbeddingTrainer>().Logger
            .Should().BeSameAs(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, "without a logger factory the trainers log nowhere");
    }

    private static MlpEmbeddingNetwork Network(int seed)
    {
        manual_seed(seed);
        return new MlpEmbeddingNetwork(new MlpOptions { InputSize = 6, LayerSizes = new[] { 16, 8 }, Dropout = 0 });
    }

    [Fact]
    public void A_meter_listener_sees_every_instrument_with_the_trainer_tag()
    {
        var (inputs, labels) = Blobs.Create(perClass: 16, classes: 2, dimensions: 6, seed: 51);
        using var _ = inputs;
        var seen = new ConcurrentDictionary<string, List<(double Value, string? Trainer)>>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TrainingTelemetry.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? trainer = null;
            foreach (var tag in tags)
                if (tag.Key == TrainingTelemetry.TrainerTag)
                    trainer = tag.Value as string;
            seen.GetOrAdd(instrument.Name, _ => new()).Add((value, trainer));
        }

        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.Start();

        using var network = Network(51);
        var reports = new SiameseTrainer(new ContrastiveLoss(), options: new TrainerOptions { Epochs = 3, BatchSize = 8, Seed = 51 })
            .Fit(new SiameseNetwork(network), new LabelledData(inputs, labels));
        listener.Dispose();

        seen.Keys.Should().BeEquivalentTo(new[]
        {
            TrainingTelemetry.StepsInstrument, TrainingTelemetry.SamplesInstrument, TrainingTelemetry.ThroughputInstrument,
            TrainingTelemetry.LossInstrument, TrainingTelemetry.EpochDurationInstrument,
        });
        seen.Values.SelectMany(v => v).Should().OnlyContain(m => m.Trainer == nameof(SiameseTrainer));
        int pairs = new AlternatingPairSampler(51).Sample(labels).Count;
        seen[TrainingTelemetry.StepsInstrument].Sum(m => m.Value).Should().Be(3 * Math.Ceiling(pairs / 8.0), "one count per step");
        seen[TrainingTelemetry.SamplesInstrument].Sum(m => m.Value).Should().Be(3 * pairs, "every pair of every epoch");
        seen[TrainingTelemetry.LossInstrument].Select(m => m.Value).Should().Equal(reports.Select(r => r.Loss), "each epoch's mean loss");
        seen[TrainingTelemetry.EpochDurationInstrument].Should().HaveCount(3);
        seen[TrainingTelemetry.ThroughputInstrument].Should().HaveCount(3).And.OnlyContain(m => m.Value > 0);
    }

    [Fact]
    public void A_logger_receives_the_start_each_epoch_and_a_divergence_with_their_event_ids()
    {
        var (inputs, labels) = Blobs.Create(perClass: 16, classes: 4, dimensions: 6, seed: 52);
        using var _ = inputs;
        var logger = new RecordingLogger();
        using var network = Network(52);

        new EmbeddingTrainer(new MultiSimilarityLoss(), new EmbeddingTrainerOptions { Epochs = 2, SamplesPerClass = 4, BatchSize = 16, CollapseSpread = 0 }) { Logger = logger }
            .Fit(network, inputs, labels);

        logger.Events.Select(e => e.Id).Should().Equal(
            TrainingTelemetry.StepChosen, TrainingTelemetry.Started, TrainingTelemetry.EpochCompleted, TrainingTelemetry.EpochCompleted);
        logger.Events.First().Message.Should().Be("EmbeddingTrainer trains with the fused step (the network's and the loss's hand-written passes, no autograd graph)");
        logger.Events.Skip(2).First().Message.Should().StartWith("EmbeddingTrainer epoch 1/2: loss ");

        // A learning rate this large makes the loss explode: the error is logged before the exception.
        var diverging = new RecordingLogger();
        using var other = Network(53);
        var act = () => new SiameseTrainer(new ContrastiveLoss(), options: new TrainerOptions { Epochs = 3, BatchSize = 8, Optimizer = OptimizerSettings.Sgd(1e30, momentum: 0) }) { Logger = diverging }
            .Fit(new SiameseNetwork(other), new LabelledData(inputs, labels));
        act.Should().Throw<TrainingDivergedException>();
        diverging.Events.Should().Contain(e => e.Id == TrainingTelemetry.Diverged && e.Level == LogLevel.Error);
    }

    [Fact]
    public void Step_progress_reports_each_epoch_up_to_its_last_step_with_the_running_loss()
    {
        var (inputs, labels) = Blobs.Create(perClass: 16, classes: 2, dimensions: 6, seed: 54);
        using var _ = inputs;
        var steps = new List<StepReport>();
        using var network = Network(54);

        var reports = new SiameseTrainer(new ContrastiveLoss(), options: new TrainerOptions { Epochs = 2, BatchSize = 8, Seed = 54 }) { StepProgress = new SynchronousProgress<StepReport>(steps.Add) }
            .Fit(new SiameseNetwork(network), new LabelledData(inputs, labels));

        steps.Should().NotBeEmpty();
        foreach (int epoch in new[] { 1, 2 })
        {
            var last = steps.Last(s => s.Epoch == epoch);
            last.Step.Should().Be(last.StepsPerEpoch, "the last step of an epoch is always reported");
            last.RunningLoss.Should().BeApproximately(reports[epoch - 1].Loss, 1e-12, "at the last step the running loss is the epoch's mean");
        }

        steps.Should().OnlyContain(s => s.SamplesPerSecond > 0 && s.Epochs == 2);
    }
}
