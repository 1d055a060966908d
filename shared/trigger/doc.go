// Package trigger holds the handlers of the functions that no HTTP request
// starts, one file a trigger: Ingest (S3's ObjectCreated), Sweep (the
// schedule), Notify (the table's stream, its retry schedule and replays of
// failed batches) and Provision (a direct invocation). Each decodes its
// event, calls the domain, and shapes the result, the returned error
// (masked) and the log line. The HTTP functions' handlers are httpapi's
// routers with their route tables. A function's main builds one of these
// and hands its Handle to lambda.Start; the tests drive each with the
// samples in events/ and fakes.
//
// The domain services are reached through function fields, which main sets
// to method values (svc.Provision), rather than interfaces: a large
// service held in an interface keeps every exported method in the binary
// (the mail templates' reflection), 128 KB more for the provision
// function. Small adapters (Invoker, Notify's Partners and Batches) are
// interfaces.
package trigger
