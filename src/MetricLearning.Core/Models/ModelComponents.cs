using System;
using System.Collections.Generic;
using System.IO;

namespace MetricLearning.Models;

/// <summary>
/// Formats and factories for the parts of a saved model or index that are your own (an <see cref="IEmbeddingNetwork"/>,
/// an <see cref="IDistance"/> or an <see cref="IInputPreprocessing"/>): one mechanism for all three. A part with an
/// <see cref="IPartFormat"/> is saved under the format's name; one without is saved by its full type name and rebuilt
/// by the factory registered for that name.
/// </summary>
/// <remarks>
/// A factory builds the part as it was configured when saved (a network untrained, with the saved architecture:
/// its weights are loaded after); it suits parts without settings. A part with settings is better given an
/// <see cref="IPartFormat"/> in its own assembly, which a saved model finds without registering anything (the
/// library's own parts are found that way; an index file, which records no assembly, needs a distance's format
/// registered); <see cref="Add(IPartFormat)"/> registers a format by hand, which loading prefers to the one
/// its assembly declares (saving uses the assembly's). Register before loading; reading is thread-safe once registration is done.
/// </remarks>
/// <example><code>
/// var components = new ModelComponents()
///     .Add(() => new MyNetwork(hidden: 64))
///     .Add(() => new MyDistance());
/// using var model = TrainedModel.Load("my-model", components);
/// </code></example>
public sealed class ModelComponents
{
    private readonly Dictionary<string, Func<object>> _factories = new(StringComparer.Ordinal);
    private readonly List<IPartFormat> _formats = new();

    /// <summary>Registers a format, replacing an earlier one for the same part type or name.</summary>
    /// <param name="format">How a part is saved and rebuilt.</param>
    /// <returns>This object, to chain registrations.</returns>
    /// <exception cref="ArgumentException">The format's part is neither a network, a distance nor a preprocessing, or its name is empty.</exception>
    public ModelComponents Add(IPartFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (string.IsNullOrWhiteSpace(format.Name))
            throw new ArgumentException($"The format {format.GetType().FullName} has an empty name.", nameof(format));
        CheckPartType(format.PartType, nameof(format));
        _formats.RemoveAll(f => f.PartType == format.PartType || f.Name == format.Name);
        _formats.Add(format);
        return this;
    }

    /// <summary>Registers the factory of one of your types, replacing an earlier one for the same type.</summary>
    /// <typeparam name="T">Your network, distance or preprocessing type; saved and looked up by its full name.</typeparam>
    /// <param name="create">Builds the part as it was when saved.</param>
    /// <returns>This object, to chain registrations.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is neither a network, a distance nor a preprocessing.</exception>
    public ModelComponents Add<T>(Func<T> create) where T : class
    {
        ArgumentNullException.ThrowIfNull(create);
        var type = typeof(T);
        if (type.IsInterface || type.IsAbstract)
            throw new ArgumentException(
                $"Register a concrete type, not {type.FullName}: parts are saved under their own type's name (Add(() => new MyDistance()), not Add<IDistance>(...)).", nameof(create));
        CheckPartType(type, nameof(create));
        _factories[TypeName(type)] = create;
        return this;
    }

    private static void CheckPartType(Type type, string parameter)
    {
        if (!typeof(IEmbeddingNetwork).IsAssignableFrom(type) && !typeof(IDistance).IsAssignableFrom(type) && !typeof(IInputPreprocessing).IsAssignableFrom(type))
            throw new ArgumentException(
                $"{type.FullName} is not an IEmbeddingNetwork, an IDistance or an IInputPreprocessing; only those are saved with a model.", parameter);
    }

    /// <summary>The format registered for exactly this part type, or null.</summary>
    internal IPartFormat? FindFormat(Type type) => _formats.Find(f => f.PartType == type);

    /// <summary>The format registered under this saved name, or null.</summary>
    internal IPartFormat? FindFormat(string name) => _formats.Find(f => f.Name == name);

    /// <summary>Whether a factory is registered for the part saved as <paramref name="typeName"/>.</summary>
    internal bool HasFactory(string typeName) => _factories.ContainsKey(typeName);

    /// <summary>The name a part of type <paramref name="type"/> is saved under.</summary>
    internal static string TypeName(Type type) => type.FullName ?? type.Name;

    /// <summary>Builds the part saved as <paramref name="typeName"/>, or explains what is missing.</summary>
    /// <param name="typeName">The saved full type name.</param>
    /// <param name="role">"network", "distance" or "preprocessing", for messages.</param>
    /// <param name="source">The file that named it, for messages.</param>
    /// <exception cref="InvalidDataException">No factory is registered for that name, or it built another type.</exception>
    internal T Create<T>(string typeName, string role, string source) where T : class
    {
        if (!_factories.TryGetValue(typeName, out var create))
            throw new InvalidDataException(
                $"'{source}' was saved with the {role} {typeName}, which is not one of the library's; register a factory for it: " +
                $"new ModelComponents().Add(() => new {ShortName(typeName)}(...)), and pass it when loading.");
        object built = create() ?? throw new InvalidOperationException($"The factory registered for {typeName} returned null.");
        if (built is not T part || TypeName(built.GetType()) != typeName)
        {
            (built as IDisposable)?.Dispose();
            throw new InvalidDataException($"'{source}' was saved with the {role} {typeName}, but its factory built a {TypeName(built.GetType())}.");
        }

        return part;
    }

    private static string ShortName(string typeName) => typeName[(typeName.LastIndexOfAny(new[] { '.', '+' }) + 1)..];
}
