// softland's GraphiQL: everything comes from this server. Put your key in the Headers tab:
// {"Authorization": "Bearer sl_…"}. Queries and mutations go over HTTP; subscriptions over the
// server's graphql-ws endpoint, whose connection_init carries the same headers.
const here = new URL(location.href);
const subscriptions = new URL("/graphql/ws", here);
subscriptions.protocol = here.protocol === "https:" ? "wss:" : "ws:";
const fetcher = GraphiQL.createFetcher({
  url: new URL("/graphql", here).href,
  subscriptionUrl: subscriptions.href,
});
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultEditorToolsVisibility: "headers",
    defaultHeaders: '{"Authorization": "Bearer "}',
  }),
);
