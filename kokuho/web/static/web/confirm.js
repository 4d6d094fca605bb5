// 元に戻せない操作の確認: a form or button with data-confirm asks before it is sent.
// Without script the action still works (the server checks everything); the question is a
// second look for the clerk, not a control.
document.addEventListener("submit", function (event) {
  var source = event.submitter && event.submitter.dataset.confirm ? event.submitter : event.target;
  var message = source.dataset ? source.dataset.confirm : "";
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
