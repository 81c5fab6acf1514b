using System;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MetricLearning.Tests.TestSupport;

/// <summary>Keeps every log event it receives: level, id and formatted message.</summary>
internal sealed class RecordingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, EventId Id, string Message)> Events { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Events.Enqueue((logLevel, eventId, formatter(state, exception)));
}
