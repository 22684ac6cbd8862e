// softland's GraphiQL: everything comes from this server. Put your key in the Headers tab:
// {"Authorization": "Bearer sl_…"}
const fetcher = GraphiQL.createFetcher({ url: new URL("/graphql", location.href).href });
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultEditorToolsVisibility: "headers",
    defaultHeaders: '{"Authorization": "Bearer "}',
  }),
);
