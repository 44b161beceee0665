"""The API assembly: the request context, the schema built from every domain's mixins, and the
scanner's union. The only package that imports every domain; the GraphQL kit (graphql/) imports none."""
