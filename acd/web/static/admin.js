/* Administration console: the pages work without this; it only asks before destructive actions
   (forms with data-confirm: disable a user, remove an agent, roll back), moves the focus to the outcome of
   the last POST so a keyboard or screen-reader user lands on it, and shows the agent-id field of the user
   form only for role agent. */
(function () {
  "use strict";

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) ev.preventDefault();
  });

  var result = document.querySelector(".adm-result");
  if (result) {
    var details = result.closest("details");
    if (details) details.open = true;
    result.focus({preventScroll: true});
    result.scrollIntoView({block: "center"});
  }

  var role = document.getElementById("u-role");
  var agent = document.getElementById("u-agent");
  if (role && agent) {
    var field = agent.closest(".adm-field");
    var sync = function () { field.hidden = role.value !== "agent"; };
    role.addEventListener("change", sync);
    sync();
  }
})();
