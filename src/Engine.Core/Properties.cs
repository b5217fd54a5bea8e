using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Engine.Core.Tests")]
