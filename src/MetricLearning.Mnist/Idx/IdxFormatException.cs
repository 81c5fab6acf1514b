using System;
using System.IO;

namespace MetricLearning.Mnist.Idx;

/// <summary>An IDX file is malformed or does not hold what was expected; the message names the file and the problem.</summary>
public sealed class IdxFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The offending file.</param>
    /// <param name="problem">What is wrong with it.</param>
    public IdxFormatException(string path, string problem)
        : base($"IDX file '{path}': {problem}")
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The offending file.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the file name.</summary>
    public string Problem { get; }
}
