//! The future our layers return for a call: the inner service's own, or an
//! answer made before it ran (a refusal). A named type instead of a boxed
//! `async` block: no allocation and no indirect poll per layer and call,
//! which every call paid six times over before a handler ran (#28).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// `guard` is held until the call's future is dropped (a shedding
    /// permit); `()` where nothing is.
    #[project = AnswerProjection]
    pub enum Answer<F, T, G = ()> {
        Now { response: Option<T> },
        Inner {
            #[pin]
            future: F,
            guard: G,
        },
    }
}

impl<F, T, G> Answer<F, T, G> {
    /// An answer of this layer's own, without calling the inner service.
    pub fn now(response: T) -> Self {
        Answer::Now {
            response: Some(response),
        }
    }

    /// The inner service's answer, holding `guard` meanwhile.
    pub fn inner(future: F, guard: G) -> Self {
        Answer::Inner { future, guard }
    }
}

impl<F, T, E, G> Future for Answer<F, T, G>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            AnswerProjection::Now { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Futures are not polled after they complete (the Future
                // contract); staying pending is the harmless answer if one is.
                None => Poll::Pending,
            },
            AnswerProjection::Inner { future, .. } => future.poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready<F: Future>(future: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("not ready at once"),
        }
    }

    #[test]
    fn answers_now_or_with_the_inner_future() {
        let refused: Answer<std::future::Ready<Result<u8, ()>>, u8> = Answer::now(7);
        assert_eq!(ready(refused), Ok(7));
        let inner: Answer<_, u8, &str> = Answer::inner(std::future::ready(Ok::<u8, ()>(9)), "held");
        assert_eq!(ready(inner), Ok(9));
    }
}
