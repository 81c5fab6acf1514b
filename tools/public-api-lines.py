"""Proposes PublicAPI.Unshipped.txt lines for the RS0016 errors of a build (a developer's aid, not part of the build).

    dotnet build src/X 2>&1 | python3 tools/public-api-lines.py [--write]

Reads each reported symbol's declaration from its source line and writes it in the analyzer's format, qualifying the
types it can find in src/ or in its table of common ones. Lines it cannot form are printed for hand editing. With
--write, the lines are added to each project's PublicAPI.Unshipped.txt (sorted); build again to confirm.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KNOWN = {
    "Tensor": "TorchSharp.torch.Tensor", "Device": "TorchSharp.torch.Device", "Parameter": "TorchSharp.Modules.Parameter",
    "ScalarType": "TorchSharp.torch.ScalarType", "Generator": "TorchSharp.torch.Generator",
    "IReadOnlyList": "System.Collections.Generic.IReadOnlyList", "IEnumerable": "System.Collections.Generic.IEnumerable",
    "IReadOnlyDictionary": "System.Collections.Generic.IReadOnlyDictionary", "KeyValuePair": "System.Collections.Generic.KeyValuePair", "IList": "System.Collections.Generic.IList",
    "TimeSpan": "System.TimeSpan", "Func": "System.Func", "Action": "System.Action", "IServiceProvider": "System.IServiceProvider",
}
VALUE = {"double", "float", "int", "long", "bool", "byte", "short", "void", "Device.Type", "ScalarType"}
REFERENCE_KEYWORDS = {"string", "object"}


def source_types():
    types = {}
    for folder, _, files in os.walk(os.path.join(ROOT, "src")):
        if "/obj" in folder or "/bin" in folder:
            continue
        for name in files:
            if not name.endswith(".cs"):
                continue
            text = open(os.path.join(folder, name), encoding="utf-8").read()
            namespace = re.search(r"^namespace ([\w.]+);", text, re.M)
            if not namespace:
                continue
            for kind, type_name in re.findall(r"^\s*public (?:sealed |abstract |static |readonly |partial )*(class|interface|enum|struct|record) (\w+)", text, re.M):
                types[type_name] = (namespace.group(1) + "." + type_name, kind in ("enum", "struct"))
    return types


TYPES = source_types()


def qualify(t):
    t = t.strip()
    nullable = t.endswith("?")
    if nullable:
        t = t[:-1]
    if t.endswith("[]"):
        inner = qualify(t[:-2])
        return inner + "[]" + ("?" if nullable else "!")
    generic = re.match(r"^([\w.]+)<(.*)>$", t)
    if generic:
        args, depth, current = [], 0, ""
        for ch in generic.group(2):
            if ch == "," and depth == 0:
                args.append(current)
                current = ""
                continue
            depth += ch == "<"
            depth -= ch == ">"
            current += ch
        args.append(current)
        base = KNOWN.get(generic.group(1)) or TYPES.get(generic.group(1), (generic.group(1), False))[0]
        struct = generic.group(1) in ("KeyValuePair", "ValueTuple", "Nullable")
        return f"{base}<{', '.join(qualify(a) for a in args)}>" + ("?" if nullable else "" if struct else "!")
    if t in VALUE:
        return t + ("?" if nullable else "")
    if t in REFERENCE_KEYWORDS:
        return t + ("?" if nullable else "!")
    if t in TYPES:
        full, is_value = TYPES[t]
        return full + ("?" if nullable else ("" if is_value else "!"))
    if t in KNOWN:
        return KNOWN[t] + ("?" if nullable else "!")
    return t + ("?" if nullable else "!") + " /*?*/"


def split_parameters(text):
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch in "<(["
        depth -= ch in ">)]"
        current += ch
    if current.strip():
        parts.append(current)
    return parts


def parameters(text):
    out = []
    for p in split_parameters(text):
        p = p.strip()
        default = None
        if "=" in p:
            p, default = [x.strip() for x in p.split("=", 1)]
        prefix = ""
        for modifier in ("params ", "this ", "out ", "ref ", "in "):
            if p.startswith(modifier):
                prefix, p = modifier, p[len(modifier):]
        type_text, name = p.rsplit(" ", 1)
        item = prefix + qualify(type_text) + " " + name
        if default is not None:
            default = {"null": "null", "true": "true", "false": "false"}.get(default, default)
            if default.startswith("default"):
                default = "default"
            if re.match(r"^[A-Z]\w*(\.\w+)*$", default):
                default += " /*? the constant's value */"
            item += " = " + default
        out.append(item)
    return ", ".join(out)


def declaration(path, line):
    lines = open(path, encoding="utf-8").read().split("\n")
    text = lines[line - 1]
    i = line
    while text.count("(") > text.count(")") and i < len(lines):
        text += " " + lines[i].strip()
        i += 1
    return text.strip()


def propose(path, line, column, symbol):
    implicit = re.match(r"^implicit constructor for '(\w+)'$", symbol)
    text = declaration(path, line)
    if implicit:
        namespace = re.search(r"^namespace ([\w.]+);", open(path, encoding="utf-8").read(), re.M).group(1)
        return f"{namespace}.{implicit.group(1)}.{implicit.group(1)}() -> void"
    namespace = re.search(r"^namespace ([\w.]+);", open(path, encoding="utf-8").read(), re.M).group(1)
    container = re.findall(r"^\s*public (?:sealed |abstract |static |partial )*(?:class|interface|enum|struct|record) (\w+)", open(path, encoding="utf-8").read()[:sum(len(l) + 1 for l in open(path, encoding="utf-8").read().split("\n")[:line - 1])], re.M)
    owner = namespace + "." + container[-1] if container else namespace
    type_match = re.match(r"public (?:(sealed|abstract|static) )*(?:partial )?(class|interface|enum|struct|record) (\w+)", text)
    if type_match and type_match.group(3) == symbol:
        modifiers = type_match.group(1)
        return namespace + "." + symbol
    enum_member = re.match(r"^(\w+)\s*(=\s*\d+)?,?$", text)
    if enum_member and enum_member.group(1) == symbol:
        value = re.findall(r"^\s*(\w+)\s*(?:=\s*(\d+))?,?\s*$", open(path, encoding="utf-8").read(), re.M)
        return owner + "." + symbol + " = " + str([v[0] for v in value if v[0] not in ("namespace",)].index(symbol)) + " -> " + owner
    accessor = re.match(r"^(get|set|init)$", symbol.split(".")[-1]) if "." in symbol else None
    if accessor:
        prop = symbol.split(".")[0]
        source = open(path, encoding="utf-8").read().split("\n")
        row = line - 1
        while row > 0 and not re.search(r"\b" + prop + r"\b", source[row]):
            row -= 1
        m = re.match(r"\s*(?:public |protected )?((?:(?:static|virtual|override|abstract|sealed|new|required) )*)(.+?) " + prop + r"\b", source[row])
        if not m:
            return None
        kind = accessor.group(1)
        return f"{modifiers_prefix(m.group(1))}{owner}.{prop}.{kind} -> {qualify(m.group(2)) if kind == 'get' else 'void'}"
    m = re.match(r"(?:public |protected )?((?:(?:static|virtual|override|abstract|sealed|new) )*)(?:(.+?) )?" + re.escape(symbol) + r"(<[^>]*>)?\((.*?)\)\s*(?:=>|$|:|where|\{|;)", text)
    if not m:
        return None
    modifiers, returns, generics, params = m.groups()
    prefix = modifiers_prefix(modifiers)
    if returns is None or returns == "" or symbol == container[-1]:
        return f"{owner}.{symbol}({parameters(params)}) -> void"
    return f"{prefix}{owner}.{symbol}{generics or ''}({parameters(params)}) -> {qualify(returns)}"


def modifiers_prefix(modifiers):
    words = (modifiers or "").split()
    for word in ("static", "abstract", "override", "virtual"):
        if word in words:
            return word + " "
    return ""


def unused():
    m = re.match(r"(?:public |protected )(?:(static|virtual|override|abstract|sealed override) )?(?:(.+?) )?" + re.escape(symbol) + r"(<[^>]*>)?\((.*?)\)\s*(?:=>|$|:|where|\{)", text)
    if not m:
        return None
    modifiers, returns, generics, params = m.groups()
    prefix = (modifiers + " ") if modifiers in ("static", "virtual", "override", "abstract") else ""
    if returns is None or returns == "" or symbol == container[-1]:
        return f"{owner}.{symbol}({parameters(params)}) -> void"
    if returns.startswith("static "):
        prefix, returns = "static ", returns[len("static "):]
    if returns.startswith("override "):
        prefix, returns = "override ", returns[len("override "):]
    return f"{prefix}{owner}.{symbol}{generics or ''}({parameters(params)}) -> {qualify(returns)}"


def main():
    write = "--write" in sys.argv
    found = {}
    removed = {}
    for line in sys.stdin:
        gone = re.match(r"^.*error RS0017: Symbol '(.+)' is part of the declared API, but .*\[(\S+\.csproj)\]", line.strip())
        if gone:
            removed.setdefault(gone.group(2), set()).add(gone.group(1))
            continue
        m = re.match(r"^(/\S+\.cs)\((\d+),(\d+)\): error RS0016: Symbol '(.+?)' is not part of the declared public API.*\[(\S+\.csproj)\]", line.strip())
        if not m:
            continue
        path, row, column, symbol, project = m.groups()
        key = (path, row, symbol)
        if key in found:
            continue
        found[key] = (project, propose(path, int(row), int(column), symbol))
    by_project = {}
    for (path, row, symbol), (project, proposal) in sorted(found.items()):
        if proposal is None or "/*?" in proposal:
            print(f"CANNOT {path}:{row} {symbol} -> {proposal}")
            continue
        by_project.setdefault(project, set()).add(proposal)
    for project in set(by_project) | set(removed):
        proposals = by_project.get(project, set())
        gone = removed.get(project, set())
        api = os.path.join(os.path.dirname(project), "PublicAPI.Unshipped.txt")
        existing = [l for l in open(api, encoding="utf-8").read().split("\n") if l]
        for p in sorted(gone):
            print("- " + p)
        for p in sorted(proposals - set(existing)):
            print("+ " + p)
        if write:
            kept = [l for l in existing if l not in gone]
            with open(api, "w", encoding="utf-8") as f:
                f.write("\n".join(kept + sorted(proposals - set(kept))) + "\n")


main()
