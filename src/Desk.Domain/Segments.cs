using System.Linq.Expressions;
using System.Text;

namespace Desk.Domain;

/// <summary>A saved filter over customers; its text is parsed by <see cref="SegmentFilter"/>.</summary>
public sealed class Segment
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string Filter { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>Thrown for a filter that does not parse; the message says where and why.</summary>
public sealed class SegmentFilterException(string message) : Exception(message);

/// <summary>
/// Segment filters: conditions on customer fields, tags, grade, DPD and utilisation combined with AND, OR, NOT and
/// parentheses, e.g. <c>region = 华东 AND (grade in A,B OR tag:vip) AND NOT dpd &gt; 30</c>. Operators: = != &gt; &gt;= &lt; &lt;=,
/// ~ (contains), in (comma list). Values with spaces go in double quotes. Money fields (limit, posted) are major units.
/// The filter compiles to an expression that EF Core translates to SQL, so counts and totals run in the database.
/// </summary>
public static class SegmentFilter
{
    public const int LengthMax = 2000;

    public static readonly IReadOnlyList<string> Fields =
        ["name", "uscc", "region", "industry", "source", "owner", "stage", "type", "grade", "rating", "score", "dpd", "utilisation", "limit", "posted"];

    /// <summary>Fields that reveal scores, grades and external ratings: usable only by roles that may see credit reports.</summary>
    public static readonly IReadOnlyList<string> CreditReportFields = ["grade", "rating", "score"];

    /// <summary>
    /// Parses a filter. Without <paramref name="creditReportsVisible"/> a condition on a credit-report field is refused:
    /// a segment "grade = D" would otherwise tell a salesperson which of their customers are graded D.
    /// </summary>
    public static Expression<Func<Customer, bool>> Parse(string text, bool creditReportsVisible = true)
    {
        if (text.Length > LengthMax) throw new SegmentFilterException($"filter: at most {LengthMax} characters");
        var parser = new Parser(Tokenize(text), creditReportsVisible);
        if (parser.AtEnd) return c => true;
        Expression body = parser.ParseOr();
        if (!parser.AtEnd) throw new SegmentFilterException($"unexpected '{parser.Peek.Text}' at position {parser.Peek.Position + 1}");
        return Expression.Lambda<Func<Customer, bool>>(body, Parser.Customer);
    }

    private enum Kind { Word, Quoted, Op, Open, Close, Comma, Colon }

    private readonly record struct Token(Kind Kind, string Text, int Position);

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '(') { tokens.Add(new(Kind.Open, "(", i++)); continue; }
            if (c == ')') { tokens.Add(new(Kind.Close, ")", i++)); continue; }
            if (c == ',') { tokens.Add(new(Kind.Comma, ",", i++)); continue; }
            if (c == ':') { tokens.Add(new(Kind.Colon, ":", i++)); continue; }
            if (c is '=' or '~') { tokens.Add(new(Kind.Op, c.ToString(), i++)); continue; }
            if (c is '!' or '<' or '>')
            {
                if (i + 1 < text.Length && text[i + 1] == '=') { tokens.Add(new(Kind.Op, text.Substring(i, 2), i)); i += 2; continue; }
                if (c == '!') throw new SegmentFilterException($"'!' at position {i + 1} must be followed by '='");
                tokens.Add(new(Kind.Op, c.ToString(), i++));
                continue;
            }
            if (c == '"')
            {
                int start = i++;
                var sb = new StringBuilder();
                while (i < text.Length && text[i] != '"') sb.Append(text[i++]);
                if (i >= text.Length) throw new SegmentFilterException($"unclosed quote starting at position {start + 1}");
                i++;
                tokens.Add(new(Kind.Quoted, sb.ToString(), start));
                continue;
            }
            int wordStart = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && "()=,:~!<>\"".IndexOf(text[i]) < 0) i++;
            tokens.Add(new(Kind.Word, text[wordStart..i], wordStart));
        }
        return tokens;
    }

    private sealed class Parser(List<Token> tokens, bool creditReportsVisible)
    {
        public static readonly ParameterExpression Customer = Expression.Parameter(typeof(Customer), "c");
        private int _at;

        public bool AtEnd => _at >= tokens.Count;
        public Token Peek => tokens[_at];

        private bool IsKeyword(string keyword) => !AtEnd && Peek.Kind == Kind.Word && string.Equals(Peek.Text, keyword, StringComparison.OrdinalIgnoreCase);

        private Token Next(string expected)
        {
            if (AtEnd) throw new SegmentFilterException($"the filter ends where {expected} was expected");
            return tokens[_at++];
        }

        public Expression ParseOr()
        {
            Expression left = ParseAnd();
            while (IsKeyword("OR")) { _at++; left = Expression.OrElse(left, ParseAnd()); }
            return left;
        }

        private Expression ParseAnd()
        {
            Expression left = ParseUnary();
            while (IsKeyword("AND")) { _at++; left = Expression.AndAlso(left, ParseUnary()); }
            return left;
        }

        private Expression ParseUnary()
        {
            if (IsKeyword("NOT")) { _at++; return Expression.Not(ParseUnary()); }
            if (!AtEnd && Peek.Kind == Kind.Open)
            {
                _at++;
                Expression inner = ParseOr();
                Token close = Next("')'");
                if (close.Kind != Kind.Close) throw new SegmentFilterException($"expected ')' at position {close.Position + 1}, found '{close.Text}'");
                return inner;
            }
            return ParseCondition();
        }

        private Expression ParseCondition()
        {
            Token field = Next("a field or tag:NAME");
            if (field.Kind != Kind.Word) throw new SegmentFilterException($"expected a field at position {field.Position + 1}, found '{field.Text}'");
            string name = field.Text.ToLowerInvariant();
            if (name == "tag")
            {
                Token colon = Next("':'");
                if (colon.Kind != Kind.Colon) throw new SegmentFilterException($"expected ':' after tag at position {colon.Position + 1}");
                string tag = Value();
                Expression<Func<Customer, bool>> hasTag = c => c.Tags.Any(t => t.Tag!.Name == tag);
                return Rebind(hasTag);
            }
            if (!Fields.Contains(name)) throw new SegmentFilterException($"unknown field '{field.Text}' at position {field.Position + 1}; fields: {string.Join(", ", Fields)}, tag:NAME");
            if (!creditReportsVisible && CreditReportFields.Contains(name))
                throw new SegmentFilterException($"field '{name}' (position {field.Position + 1}) is visible only to finance, risk and manager");
            if (IsKeyword("in"))
            {
                _at++;
                var values = new List<string> { Value() };
                while (!AtEnd && Peek.Kind == Kind.Comma) { _at++; values.Add(Value()); }
                Expression any = Compare(name, "=", values[0], field);
                foreach (string v in values.Skip(1)) any = Expression.OrElse(any, Compare(name, "=", v, field));
                return any;
            }
            Token op = Next("an operator");
            if (op.Kind != Kind.Op) throw new SegmentFilterException($"expected an operator (= != > >= < <= ~ in) after '{field.Text}' at position {op.Position + 1}");
            return Compare(name, op.Text, Value(), field);
        }

        private static Expression Rebind(Expression<Func<Customer, bool>> lambda) => new Replace(lambda.Parameters[0], Customer).Visit(lambda.Body);

        private string Value()
        {
            Token v = Next("a value");
            if (v.Kind is not (Kind.Word or Kind.Quoted)) throw new SegmentFilterException($"expected a value at position {v.Position + 1}, found '{v.Text}'");
            return v.Text;
        }

        private static Expression Compare(string field, string op, string value, Token at)
        {
            Expression member;
            Expression constant;
            switch (field)
            {
                case "name" or "uscc" or "region" or "industry" or "source" or "owner" or "grade" or "rating":
                    string property = field switch
                    {
                        "name" => nameof(Domain.Customer.LegalName), "uscc" => nameof(Domain.Customer.Uscc), "region" => nameof(Domain.Customer.Region),
                        "industry" => nameof(Domain.Customer.Industry), "source" => nameof(Domain.Customer.Source), "owner" => nameof(Domain.Customer.OwnerUserName),
                        "grade" => nameof(Domain.Customer.Grade), _ => nameof(Domain.Customer.ExternalRating),
                    };
                    member = Expression.Property(Customer, property);
                    if (op == "~")
                    {
                        var contains = typeof(string).GetMethod(nameof(string.Contains), [typeof(string)])!;
                        return Expression.AndAlso(Expression.NotEqual(member, Expression.Constant(null, typeof(string))),
                            Expression.Call(member, contains, Expression.Constant(value)));
                    }
                    constant = Expression.Constant(field is "grade" or "uscc" ? value.ToUpperInvariant() : value, typeof(string));
                    return op switch
                    {
                        "=" => Expression.Equal(member, constant),
                        "!=" => Expression.NotEqual(member, constant),
                        _ => throw new SegmentFilterException($"'{op}' does not apply to text field '{field}' (use = != ~ in)"),
                    };
                case "stage" or "type":
                    Type enumType = field == "stage" ? typeof(LifecycleStage) : typeof(CustomerType);
                    if (!Enum.TryParse(enumType, value.Replace("-", "").Replace("_", ""), ignoreCase: true, out object? parsed))
                        throw new SegmentFilterException($"'{value}' is not a {field}; one of: {string.Join(", ", Enum.GetNames(enumType))}");
                    member = Expression.Property(Customer, field == "stage" ? nameof(Domain.Customer.Stage) : nameof(Domain.Customer.Type));
                    constant = Expression.Constant(parsed, enumType);
                    return op switch
                    {
                        "=" => Expression.Equal(member, constant),
                        "!=" => Expression.NotEqual(member, constant),
                        _ => throw new SegmentFilterException($"'{op}' does not apply to '{field}' (use = != in)"),
                    };
                default:
                    if (!decimal.TryParse(value, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out decimal number))
                        throw new SegmentFilterException($"'{field}' needs a number, got '{value}' (near position {at.Position + 1})");
                    (string prop, Type type, decimal scale) = field switch
                    {
                        "score" => (nameof(Domain.Customer.Score), typeof(int?), 1m),
                        "dpd" => (nameof(Domain.Customer.DpdDays), typeof(int), 1m),
                        "utilisation" => (nameof(Domain.Customer.UtilisationPct), typeof(int), 1m),
                        "limit" => (nameof(Domain.Customer.LimitMinor), typeof(long), Money.MinorPerMajor),
                        _ => (nameof(Domain.Customer.PostedMinor), typeof(long), Money.MinorPerMajor),
                    };
                    member = Expression.Property(Customer, prop);
                    decimal scaled = number * scale;
                    constant = type == typeof(long) ? Expression.Constant((long)scaled, type) : Expression.Constant((int)scaled, type);
                    return op switch
                    {
                        "=" => Expression.Equal(member, constant),
                        "!=" => Expression.NotEqual(member, constant),
                        ">" => Expression.GreaterThan(member, constant),
                        ">=" => Expression.GreaterThanOrEqual(member, constant),
                        "<" => Expression.LessThan(member, constant),
                        "<=" => Expression.LessThanOrEqual(member, constant),
                        _ => throw new SegmentFilterException($"'{op}' does not apply to number field '{field}'"),
                    };
            }
        }
    }

    private sealed class Replace(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}
