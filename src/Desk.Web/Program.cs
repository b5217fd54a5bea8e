return await Desk.Web.DeskApp.RunAsync(args);
