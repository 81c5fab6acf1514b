using System;
using System.IO;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MetricLearning;

/// <summary>
/// The usual way to write an <see cref="IPartFormat"/>: settings as an object that <c>System.Text.Json</c> serialises
/// (enums by name, every constructor parameter required).
/// </summary>
/// <typeparam name="TPart">The part saved.</typeparam>
/// <typeparam name="TSettings">What rebuilds it (for a network, its options object).</typeparam>
/// <example><code>
/// public sealed class MyNetwork : nn.Module&lt;Tensor, Tensor&gt;, IEmbeddingNetwork
/// {
///     // ... the network ...
///
///     private sealed class Format : PartFormat&lt;MyNetwork, MyNetworkOptions&gt;
///     {
///         public override string Name =&gt; "MyCompany.MyNetwork";
///         protected override MyNetworkOptions Describe(MyNetwork part) =&gt; part.Options;
///         protected override MyNetwork Create(MyNetworkOptions settings, PartLoadContext context) =&gt; new(settings);
///     }
/// }
/// </code></example>
public abstract class PartFormat<TPart, TSettings> : IPartFormat
    where TPart : class
    where TSettings : class
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public Type PartType => typeof(TPart);

    /// <summary>The settings that rebuild <paramref name="part"/>.</summary>
    /// <param name="part">The part being saved.</param>
    protected abstract TSettings Describe(TPart part);

    /// <summary>Builds the part <paramref name="settings"/> describe.</summary>
    /// <param name="settings">The saved settings.</param>
    /// <param name="context">Where they were read from.</param>
    /// <exception cref="InvalidDataException">A setting is invalid; the message names <see cref="PartLoadContext.Source"/>.</exception>
    protected abstract TPart Create(TSettings settings, PartLoadContext context);

    /// <inheritdoc />
    public JsonNode? Describe(object part)
    {
        ArgumentNullException.ThrowIfNull(part);
        if (part is not TPart typed)
            throw new ArgumentException($"The format {Name} saves a {typeof(TPart).FullName}, not a {part.GetType().FullName}.", nameof(part));
        return JsonSerializer.SerializeToNode(Describe(typed), SavedJson.Options);
    }

    /// <inheritdoc />
    public object Create(JsonNode? settings, PartLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (settings is null)
            throw new InvalidDataException($"'{context.Source}': the {Name} has no settings.");
        TSettings typed;
        try
        {
            typed = settings.Deserialize<TSettings>(SavedJson.Options)
                ?? throw new InvalidDataException($"'{context.Source}': the {Name} has no settings.");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{context.Source}': the settings of the {Name} are unreadable: {ex.Message}", ex);
        }

        try
        {
            return Create(typed, context);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"'{context.Source}' describes an invalid {Name}: {ex.Message}", ex);
        }
    }
}
