using System;

namespace MetricLearning.Tests.TestSupport;

/// <summary>Reports on the caller's thread, at once (unlike <see cref="Progress{T}"/>, which posts to the thread pool).</summary>
internal sealed class SynchronousProgress<T>(Action<T> onReport) : IProgress<T>
{
    public void Report(T value) => onReport(value);
}
