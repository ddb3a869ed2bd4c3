// LTI Dynamic Registration: tell the platform that opened this page (in a frame or a window)
// that the registration is over, so it can close the page and show the new tool.
(() => {
  const close = () => {
    const platform = window.opener || (window.parent !== window ? window.parent : null);
    if (platform) platform.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
  };
  if (document.querySelector("[data-lti-close='auto']")) close();
  document.querySelectorAll("button[data-lti-close]").forEach((button) => button.addEventListener("click", close));
})();
