using System;
using Microsoft.Extensions.Options;

namespace MetricLearning.DependencyInjection;

/// <summary>Validates <see cref="MetricLearningOptions"/> however they were set (code or configuration), naming the option that is wrong.</summary>
internal sealed class MetricLearningOptionsValidator : IValidateOptions<MetricLearningOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricLearningOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}
