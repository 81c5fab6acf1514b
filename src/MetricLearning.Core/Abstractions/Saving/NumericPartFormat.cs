using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json.Nodes;

namespace MetricLearning;

/// <summary>
/// An <see cref="IPartFormat"/> whose settings are named numbers: what distances and preprocessings use, since an
/// index file stores its distance's settings as names and float64 values.
/// </summary>
/// <typeparam name="TPart">The part saved.</typeparam>
/// <example><code>
/// public sealed class MyDistance : IDistance
/// {
///     // ... the distance, with a Scale property ...
///
///     private sealed class Format : NumericPartFormat&lt;MyDistance&gt;
///     {
///         public override string Name =&gt; "MyCompany.MyDistance";
///         protected override IReadOnlyDictionary&lt;string, double&gt; Describe(MyDistance part) =&gt; new Dictionary&lt;string, double&gt; { ["scale"] = part.Scale };
///         protected override MyDistance Create(NumericSettings settings) =&gt; new(settings.Get("scale"));
///     }
/// }
/// </code></example>
public abstract class NumericPartFormat<TPart> : IPartFormat
    where TPart : class
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public Type PartType => typeof(TPart);

    /// <summary>The settings that rebuild <paramref name="part"/>, by name (empty for none).</summary>
    /// <param name="part">The part being saved.</param>
    protected abstract IReadOnlyDictionary<string, double> Describe(TPart part);

    /// <summary>Builds the part <paramref name="settings"/> describe.</summary>
    /// <param name="settings">The saved settings.</param>
    /// <exception cref="InvalidDataException">A setting is missing.</exception>
    /// <exception cref="ArgumentException">A setting is out of range (reported as invalid data naming the file).</exception>
    protected abstract TPart Create(NumericSettings settings);

    /// <inheritdoc />
    public JsonNode? Describe(object part)
    {
        ArgumentNullException.ThrowIfNull(part);
        if (part is not TPart typed)
            throw new ArgumentException($"The format {Name} saves a {typeof(TPart).FullName}, not a {part.GetType().FullName}.", nameof(part));
        return SavedJson.Node(Describe(typed));
    }

    /// <inheritdoc />
    public object Create(JsonNode? settings, PartLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var values = SavedJson.Numbers(settings, Name, context.Source);
        try
        {
            return Create(new NumericSettings(values, Name, context.Source));
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"'{context.Source}': invalid settings for {SavedJson.Text(Name, values)}: {ex.Message}", ex);
        }
    }
}
