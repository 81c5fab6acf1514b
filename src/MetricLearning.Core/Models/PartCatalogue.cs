using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

namespace MetricLearning.Models;

/// <summary>
/// Finds the <see cref="IPartFormat"/> of a part: those registered in a <see cref="ModelComponents"/> first, then those
/// its defining assembly declares (found by scanning, once per assembly). The library's own parts and users' are found
/// the same way; there is no list of built-ins to edit.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal static class PartCatalogue
{
    private static readonly ConcurrentDictionary<Assembly, IReadOnlyList<IPartFormat>> Scanned = new();

    /// <summary>Parts saved by earlier versions without their assembly, and the assembly that now defines them.</summary>
    private static readonly IReadOnlyDictionary<string, string> MovedParts = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ResNetEmbeddingNetwork"] = "MetricLearning.PyTorch",
    };

    /// <summary>How <paramref name="part"/> is saved: its format's name and settings, or its type name when it has no format.</summary>
    internal static SavedPart Describe(object part, ModelComponents? components = null)
    {
        ArgumentNullException.ThrowIfNull(part);
        var type = part.GetType();
        var format = FindByType(type, components);
        return format is null
            ? new SavedPart(ModelComponents.TypeName(type), type.Assembly.GetName().Name, null)
            : new SavedPart(format.Name, type.Assembly.GetName().Name, format.Describe(part));
    }

    /// <summary>Builds the part <paramref name="saved"/> describes.</summary>
    /// <param name="saved">The saved part.</param>
    /// <param name="role">"network", "distance" or "preprocessing", for messages.</param>
    /// <param name="components">The user's registrations, or null.</param>
    /// <param name="context">Where it was read from.</param>
    /// <exception cref="InvalidDataException">No format or factory builds it, its settings are invalid, or it built the wrong kind of part.</exception>
    internal static T Create<T>(SavedPart saved, string role, ModelComponents? components, PartLoadContext context) where T : class
    {
        string? missingAssembly = null;
        var format = components?.FindFormat(saved.Type) ?? FindByName(saved, context, out missingAssembly);
        if (format is null)
        {
            if (components is not null && components.HasFactory(saved.Type))
                return components.Create<T>(saved.Type, role, context.Source);
            string where = missingAssembly is null
                ? ""
                : $" It is defined in the assembly {missingAssembly}, which this app cannot load: reference its package ({missingAssembly}).";
            throw new InvalidDataException(
                $"'{context.Source}' was saved with the {role} {saved.Type}, which no format or factory builds.{where} For a part of your own, " +
                $"give it a format (a PartFormat or NumericPartFormat in its assembly) or register a factory: new ModelComponents().Add(() => new {ShortName(saved.Type)}(...)), and pass it when loading.");
        }

        object built = format.Create(saved.Settings, context)
            ?? throw new InvalidOperationException($"The format {format.Name} built nothing.");
        if (built is not T part)
        {
            (built as IDisposable)?.Dispose();
            throw new InvalidDataException($"'{context.Source}' names {saved.Type} as its {role}, but that is a {built.GetType().FullName}, not an {typeof(T).Name}.");
        }

        return part;
    }

    private static IPartFormat? FindByType(Type type, ModelComponents? components) =>
        components?.FindFormat(type) ?? Formats(type.Assembly).FirstOrDefault(f => f.PartType == type);

    /// <summary>
    /// The format saved as <paramref name="saved"/>: in the assembly it records (only there, so that a part of the
    /// user's own named like one of the library's is never built as the library's), or, for files that record none
    /// (format 2, index files), in the library, in the assembly a part moved to, or in the assemblies already loaded
    /// that use the library.
    /// </summary>
    /// <param name="saved">The saved part.</param>
    /// <param name="context">Where it was read from, for messages.</param>
    /// <param name="missingAssembly">The assembly the part names when it could not be loaded; null otherwise.</param>
    /// <exception cref="InvalidDataException">Several loaded assemblies declare a format of that name.</exception>
    private static IPartFormat? FindByName(SavedPart saved, PartLoadContext context, out string? missingAssembly)
    {
        missingAssembly = null;
        string? assemblyName = saved.Assembly ?? MovedParts.GetValueOrDefault(saved.Type);
        if (assemblyName is null)
        {
            var found = Formats(typeof(PartCatalogue).Assembly).FirstOrDefault(f => f.Name == saved.Type);
            if (found is not null)
                return found;
            var candidates = AppDomain.CurrentDomain.GetAssemblies()
                .Where(UsesTheLibrary)
                .SelectMany(Formats)
                .Where(f => f.Name == saved.Type)
                .ToList();
            if (candidates.Count > 1)
                throw new InvalidDataException(
                    $"'{context.Source}' names the part {saved.Type} without its assembly, and several assemblies declare a format of that name " +
                    $"({string.Join(", ", candidates.Select(f => f.GetType().Assembly.GetName().Name))}); register the one to use with ModelComponents.Add.");
            return candidates.SingleOrDefault();
        }

        Assembly assembly;
        try
        {
            // Only assemblies the app can already resolve load here; only types that implement IPartFormat are built from them.
            assembly = Assembly.Load(new AssemblyName(assemblyName));
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException or ArgumentException)
        {
            missingAssembly = assemblyName;
            return null;
        }

        return Formats(assembly).FirstOrDefault(f => f.Name == saved.Type);
    }

    private static bool UsesTheLibrary(Assembly assembly)
    {
        string library = typeof(PartCatalogue).Assembly.GetName().Name!;
        try
        {
            return !assembly.IsDynamic && assembly.GetReferencedAssemblies().Any(reference => reference.Name == library);
        }
        catch (NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>The formats an assembly declares: every concrete <see cref="IPartFormat"/> with a parameterless constructor.</summary>
    /// <exception cref="InvalidOperationException">Two formats of the assembly claim one name or one part type.</exception>
    internal static IReadOnlyList<IPartFormat> Formats(Assembly assembly) => Scanned.GetOrAdd(assembly, static assembly =>
    {
        Type?[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            types = ex.Types;
        }

        var formats = types
            .Where(t => t is { IsAbstract: false, IsInterface: false, ContainsGenericParameters: false } && typeof(IPartFormat).IsAssignableFrom(t)
                && t.GetConstructor(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance, Type.EmptyTypes) is not null)
            .Select(t => (IPartFormat)Activator.CreateInstance(t!, nonPublic: true)!)
            .ToList();
        foreach (var clash in formats.GroupBy(f => f.Name).Where(g => g.Count() > 1))
            throw new InvalidOperationException($"The formats {string.Join(" and ", clash.Select(f => f.GetType().FullName))} in {assembly.GetName().Name} both save parts as '{clash.Key}'.");
        foreach (var clash in formats.GroupBy(f => f.PartType).Where(g => g.Count() > 1))
            throw new InvalidOperationException($"The formats {string.Join(" and ", clash.Select(f => f.GetType().FullName))} in {assembly.GetName().Name} both save {clash.Key.FullName}.");
        return formats;
    });

    private static string ShortName(string typeName) => typeName[(typeName.LastIndexOfAny(new[] { '.', '+' }) + 1)..];
}
