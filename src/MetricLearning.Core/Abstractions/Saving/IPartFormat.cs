using System;
using System.Text.Json.Nodes;

namespace MetricLearning;

/// <summary>
/// How one kind of part (an <see cref="IEmbeddingNetwork"/>, an <see cref="IDistance"/> or an
/// <see cref="IInputPreprocessing"/>) is written into a saved model or index and rebuilt from it: the name it is saved
/// under and the settings that rebuild it.
/// </summary>
/// <remarks>
/// <para>
/// The library's own parts and yours register the same way: derive from <see cref="PartFormat{TPart, TSettings}"/>
/// (settings as a JSON-serialisable object) or <see cref="NumericPartFormat{TPart}"/> (settings as named numbers,
/// which is what an index file can hold), in the part's own file (a nested class is enough). A saved model records the
/// assembly that defines each part, and loading finds the part's format by scanning that assembly, so adding a part
/// is adding its file. An index file records only its distance's format name: the library's distances are found,
/// but a distance of your own needs its format registered with
/// <see cref="Models.ModelComponents.Add(IPartFormat)"/> (or the distance passed when loading). When loading, a format
/// registered by hand takes precedence over the one the part's assembly declares; saving always uses the one its
/// assembly declares (a part whose assembly declares none is saved by type name, for a factory to rebuild).
/// </para>
/// <para>A format must have a public or private parameterless constructor to be found by scanning, and be stateless
/// and thread-safe.</para>
/// </remarks>
public interface IPartFormat
{
    /// <summary>
    /// The name the part is saved under (for example <c>MlpEmbeddingNetwork</c>). It is part of the file format:
    /// never change it once models have been saved with it.
    /// </summary>
    string Name { get; }

    /// <summary>The exact type of part this format saves (a derived type needs a format of its own).</summary>
    Type PartType { get; }

    /// <summary>The settings that rebuild <paramref name="part"/>, or null when it has none.</summary>
    /// <param name="part">A part of type <see cref="PartType"/>.</param>
    JsonNode? Describe(object part);

    /// <summary>Builds the part that <paramref name="settings"/> describe (a network untrained: its weights are loaded after).</summary>
    /// <param name="settings">What <see cref="Describe"/> wrote, or null.</param>
    /// <param name="context">Where the settings were read from, for messages and size checks.</param>
    /// <exception cref="System.IO.InvalidDataException">A setting is missing or invalid; the message names the file.</exception>
    object Create(JsonNode? settings, PartLoadContext context);
}
