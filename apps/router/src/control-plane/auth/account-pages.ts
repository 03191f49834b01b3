import { createHash } from 'node:crypto';

/**
 * The two pages email links open. They never act on page load (mail scanners prefetch links): the user
 * presses a button, and the page's script POSTs the token from the URL to the API. The token is read in
 * the browser and never echoed into the HTML, then removed from the address bar.
 */

const style = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
button{font-size:1rem;padding:.5rem 1rem}input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box;margin:.25rem 0 .75rem}
.err{color:#b00020}.ok{color:#1b5e20}`;

const verifyScript = `(function(){
var token=new URLSearchParams(location.search).get('token')||'';
history.replaceState(null,'',location.pathname);
var out=document.getElementById('out'),btn=document.getElementById('go');
if(!token){out.className='err';out.textContent='This link has no token. Open the link from the email again.';btn.disabled=true;return;}
btn.addEventListener('click',function(){
btn.disabled=true;out.className='';out.textContent='Verifying…';
fetch('../api/v1/auth/verify-email',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({token:token})})
.then(function(r){return r.json().then(function(b){return {ok:r.ok,b:b};});})
.then(function(x){if(x.ok){out.className='ok';out.textContent='Your email is verified. You can close this page and sign in.';}
else{out.className='err';out.textContent=(x.b&&x.b.error&&x.b.error.message)||'Verification failed.';}})
.catch(function(){btn.disabled=false;out.className='err';out.textContent='Network error; try again.';});
});})();`;

const resetScript = `(function(){
var token=new URLSearchParams(location.search).get('token')||'';
history.replaceState(null,'',location.pathname);
var out=document.getElementById('out'),form=document.getElementById('f');
if(!token){out.className='err';out.textContent='This link has no token. Open the link from the email again.';form.hidden=true;return;}
form.addEventListener('submit',function(e){
e.preventDefault();var p=form.password.value;
if(p!==form.confirm.value){out.className='err';out.textContent='The two passwords differ.';return;}
form.go.disabled=true;out.className='';out.textContent='Saving…';
fetch('../api/v1/auth/password/reset',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({token:token,password:p})})
.then(function(r){return r.json().then(function(b){return {ok:r.ok,b:b};});})
.then(function(x){if(x.ok){form.hidden=true;out.className='ok';out.textContent='Your password is changed. Sign in with the new one.';}
else{form.go.disabled=false;out.className='err';out.textContent=(x.b&&x.b.error&&x.b.error.message)||'The reset failed.';}})
.catch(function(){form.go.disabled=false;out.className='err';out.textContent='Network error; try again.';});
});})();`;

function sha256(s: string): string {
  return `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
}

function page(title: string, body: string, script: string): { html: string; csp: string } {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · ToRouter</title><style>${style}</style></head><body><h1>${title}</h1>${body}<p id="out" role="status"></p>
<script>${script}</script></body></html>`;
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    "connect-src 'self'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return { html, csp };
}

export const verifyEmailPage = page(
  'Verify your email',
  '<p>Press the button to verify the email address of your ToRouter account.</p><button id="go" type="button">Verify my email</button>',
  verifyScript,
);

export const resetPasswordPage = page(
  'Choose a new password',
  `<form id="f"><label>New password<input name="password" type="password" autocomplete="new-password" minlength="6" required></label>
<label>Repeat it<input name="confirm" type="password" autocomplete="new-password" minlength="6" required></label>
<button name="go" type="submit">Set password</button></form>`,
  resetScript,
);
